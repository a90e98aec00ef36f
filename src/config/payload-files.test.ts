import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GatewayError } from '../core/errors.js';
import { loadConfig } from './load.js';

const root = mkdtempSync(join(tmpdir(), 'dgate-config-payload-'));
after(() => rmSync(root, { recursive: true, force: true }));

// The config lives in root/etc, the module sources in root/etc/modules, and cwd is elsewhere:
// payload_file paths are relative to the config file's directory.
const etc = join(root, 'etc');
const cwd = join(root, 'cwd');
mkdirSync(join(etc, 'modules'), { recursive: true });
mkdirSync(cwd);
const SOURCE = 'export const requestHandler = (ctx) => ctx.response().status(200).json({ hi: `${1 + 1}` });\n';
writeFileSync(join(etc, 'modules', 'hello.ts'), SOURCE);

function writeConfig(name: string, modules: unknown[]): string {
  const path = join(etc, name);
  writeFileSync(path, JSON.stringify({ debug: true, proxy: { init_resources: { modules } } }));
  return path;
}

test('payload_file is read (relative to the config file) into payload', () => {
  const file = writeConfig('ok.json', [
    { name: 'inline', namespace: 'ns', payload: 'export {}', moduleType: 'javascript' },
    { name: 'hello', namespace: 'ns', payload_file: 'modules/hello.ts', moduleType: 'typescript' },
  ]);
  const config = loadConfig({ argv: ['-c', file], env: {}, cwd });
  assert.deepEqual(config.proxy.initResources.modules, [
    { name: 'inline', namespace: 'ns', payload: 'export {}', moduleType: 'javascript' },
    // File text is used as is: no ${...} substitution inside module source.
    { name: 'hello', namespace: 'ns', payload: SOURCE, moduleType: 'typescript' },
  ]);
});

function throwsConfig(file: string, message: string): void {
  assert.throws(
    () => loadConfig({ argv: ['-c', file], env: {}, cwd }),
    (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.code, 'DG_ERR_CONFIG');
      assert.equal(err.message, message);
      return true;
    },
  );
}

test('a missing payload_file is an error naming the item', () => {
  const file = writeConfig('missing.json', [
    { name: 'hello', payload_file: 'modules/hello.ts' },
    { name: 'gone', payload_file: 'modules/gone.ts' },
  ]);
  throwsConfig(
    file,
    `config: proxy.init_resources.modules[1].payload_file: cannot read ${join(etc, 'modules', 'gone.ts')}: file not found (module "gone")`,
  );
});

test('payload and payload_file together, or a non-string payload_file, are errors', () => {
  throwsConfig(
    writeConfig('both.json', [{ name: 'm', payload: 'x', payload_file: 'modules/hello.ts' }]),
    'config: proxy.init_resources.modules[0]: set payload or payload_file, not both (module "m")',
  );
  throwsConfig(
    writeConfig('typed.json', [{ name: 'm', payload_file: 3 }]),
    'config: proxy.init_resources.modules[0].payload_file: expected a file path (module "m")',
  );
});

/**
 * Config files too deep or too large stop start-up with one clear config error naming the file
 * (and the key), never a stack overflow (limits in core/limits.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GatewayError } from '../core/errors.js';
import { MAX_FILE_BYTES, MAX_NESTING_DEPTH } from '../core/limits.js';
import { buildConfig, loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'dgate-config-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function loadFile(name: string, text: string): unknown {
  const file = join(dir, name);
  writeFileSync(file, text);
  return loadConfig({ argv: ['--config', file], env: {}, cwd: dir });
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GatewayError, `a config error, not ${String(err)}`);
    assert.equal(err.code, 'DG_ERR_CONFIG');
    return err.message;
  }
  assert.fail('accepted');
}

const PROBLEM = `nested deeper than ${MAX_NESTING_DEPTH} levels`;

test('YAML nested thousands of levels deep (flow and block style) is a config error, not a stack overflow', () => {
  const flow = configError(() => loadFile('flow.yaml', `proxy:\n  global_headers: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`));
  assert.equal(flow, `config: ${join(dir, 'flow.yaml')}: ${PROBLEM}`);
  const block = Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
  // Where the parser's recursion overflows the stack (Node), the file as a whole is named; with a
  // deeper stack (Bun) the file parses and the depth check names the top-level key.
  const blockError = configError(() => loadFile('block.yaml', block));
  assert.ok([`config: ${join(dir, 'block.yaml')}: ${PROBLEM}`, `config: ${join(dir, 'block.yaml')}: k0: ${PROBLEM}`].includes(blockError), blockError);
});

test('YAML and JSON deeper than the limit name the top-level key', () => {
  const yaml = `proxy:\n  init_resources:\n    namespaces: [{ name: a, tags: ${'['.repeat(80)}${']'.repeat(80)} }]\n`;
  assert.equal(configError(() => loadFile('some.yaml', yaml)), `config: ${join(dir, 'some.yaml')}: proxy: ${PROBLEM}`);
  const json = `{"admin": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  assert.equal(configError(() => loadFile('deep.json', json)), `config: ${join(dir, 'deep.json')}: admin: ${PROBLEM}`);
});

test('an object handed to buildConfig is checked too', () => {
  let tree: unknown = {};
  for (let i = 0; i < 10_000; i++) tree = [tree];
  assert.equal(configError(() => buildConfig({ tags: tree })), `config: tags: ${PROBLEM}`);
});

test('a config file larger than the limit is refused before it is read', () => {
  const file = join(dir, 'big.yaml');
  writeFileSync(file, `# ${'x'.repeat(MAX_FILE_BYTES)}\n`);
  assert.equal(configError(() => loadConfig({ argv: ['-c', file], env: {}, cwd: dir })), `config: ${file}: larger than ${MAX_FILE_BYTES} bytes`);
});

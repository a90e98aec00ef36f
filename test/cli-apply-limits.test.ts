/**
 * `dgate-cli apply -f` with a file too deep or too large: one clear error line naming the file
 * (and the section), a usage exit code, and nothing sent to the gateway (limits in core/limits.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_FILE_BYTES, MAX_NESTING_DEPTH } from '../src/core/limits.js';
import { cli } from './support/cli-run.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

describe('dgate-cli apply: input limits', () => {
  let gw: TestGateway;
  const dir = mkdtempSync(join(tmpdir(), 'dgate-apply-limits-'));
  before(async () => (gw = await startTestGateway()));
  after(async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function apply(name: string, text: string) {
    writeFileSync(join(dir, name), text);
    const before = (await gw.admin('GET', '/changelog')).body.rev;
    assert.equal(typeof before, 'number');
    const r = await cli(['apply', '-f', name], { admin: gw.adminUrl, cwd: dir });
    assert.equal((await gw.admin('GET', '/changelog')).body.rev, before, 'nothing was written');
    return r;
  }

  it('a YAML file nested thousands of levels deep', async () => {
    const r = await apply('deep.yaml', `namespaces: [{ name: a, tags: ${'['.repeat(20_000)}${']'.repeat(20_000)} }]\n`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^dgate-cli: deep\\.yaml: nested deeper than ${MAX_NESTING_DEPTH} levels`));
  });

  it('a collection schema deeper than the limit names the section', async () => {
    const schema = '{"not":'.repeat(100) + '{}' + '}'.repeat(100);
    const r = await apply('deep.json', `{"namespaces":[{"name":"a"}],"collections":[{"name":"c","namespace":"a","schema":${schema}}]}`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^dgate-cli: deep\\.json: collections: nested deeper than ${MAX_NESTING_DEPTH} levels`));
  });

  it('a file larger than the limit', async () => {
    const r = await apply('big.yaml', `# ${'x'.repeat(MAX_FILE_BYTES)}\nnamespaces: [{ name: a }]\n`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^dgate-cli: big\\.yaml: larger than ${MAX_FILE_BYTES} bytes`));
  });
});

/**
 * `dgate-cli module test`: DGate's example modules run without a server, through the gateway's
 * own module runtime; the output says what the gateway would do.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { cli } from './support/cli-run.js';
import { tempDir } from './support/server-process.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/modules/', import.meta.url));

describe('dgate-cli module test', () => {
  it('runs an IP-hash fetchUpstream and shows the upstream it picked', async () => {
    const r = await cli(['module', 'test', join(fixtures, 'iphash.ts'), '--header', 'X-Forwarded-For: 192.168.0.1', '--path', '/test-lb']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.match(out.upstream.url, /^http:\/\/127\.0\.0\.1:\d+\/test-lb$/);
    assert.equal(out.response.status, 200);
    assert.equal(out.response.headers['x-remote-address'], '192.168.0.1');
    assert.equal(out.response.headers['x-hash'], createHash('sha1').update('192.168.0.1').digest('hex'));
  });

  it('shows the answer a responseModifier rewrites', async () => {
    const r = await cli(['mod', 'test', join(fixtures, 'modify_response.ts'), '--upstream-status', '201', '--upstream-header', 'Content-Type: application/json', '--upstream-body', '{"a":1}']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.equal(out.response.status, 200);
    assert.deepEqual(JSON.parse(out.response.body), { a: 1, modified: true });
    assert.equal(out.upstream.method, 'GET');
  });

  it('runs a requestHandler with documents from a request file', async () => {
    const dir = tempDir();
    const request = join(dir, 'request.yaml');
    writeFileSync(
      request,
      `request: { method: POST, path: "/?url=https://example.com/long" }
resources:
  collections: [{ name: short_link, schema: { type: object, properties: { url: { type: string } }, required: [url] } }]
`,
    );
    const r = await cli(['module', 'test', join(fixtures, 'url_shortener.ts'), '--request', request, '--no-upstream', '--route-path', '/', '--route-path', '/{id}']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.equal(out.upstream, null);
    assert.equal(out.response.status, 201);
    assert.match(JSON.parse(out.response.body).id, /^[A-Za-z0-9_-]{8}$/);
  });

  it('runs a module that only exports requestHandler on a route without a service', async () => {
    const r = await cli(['module', 'test', join(fixtures, 'change_checker.ts'), '--path', '/check']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.equal(out.upstream, null);
    assert.equal(out.response.status, 201);
    assert.deepEqual(JSON.parse(out.response.body), { mod: 'change_checker', path: '/check' });
    assert.deepEqual(out.notes, []);
    assert.equal(r.stderr, '');
  });

  it('says the upstream is never called when a requestHandler module gets upstream flags', async () => {
    const r = await cli(['module', 'test', join(fixtures, 'change_checker.ts'), '--upstream-status', '503', '--upstream-body', 'down']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.equal(out.upstream, null);
    assert.equal(out.response.status, 201);
    assert.equal(out.notes.length, 1);
    assert.match(out.notes[0], /upstream is never called: module change_checker exports requestHandler/);
    assert.match(r.stderr, /^note: the upstream is never called/);
  });

  it('says which hooks cannot run on a route without a service', async () => {
    const r = await cli(['module', 'test', join(fixtures, 'modify_response.ts'), join(fixtures, 'iphash.ts'), '--no-upstream']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.equal(out.upstream, null);
    assert.equal(out.response.status, 501);
    assert.deepEqual(out.notes, [
      'no module exports requestHandler: the route has no service, so the gateway answers 501',
      'fetchUpstream of module iphash never runs: a route without a service has no upstream',
      'responseModifier of module modify_response never runs: a route without a service has no upstream',
    ]);
  });

  it('exits 1 with the compile error of a broken module', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'broken.ts'), 'export const x = (;\n');
    const r = await cli(['module', 'test', join(dir, 'broken.ts')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /module broken: 1:19/);
  });

  it('exits 2 on bad usage', async () => {
    assert.equal((await cli(['module', 'test'])).code, 2);
    const r = await cli(['module', 'test', join(fixtures, 'iphash.ts'), '--upstream-status', 'abc']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--upstream-status/);
    const help = await cli(['module', 'test', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--upstream-url/);
  });
});

/**
 * The node's write path end to end: the gateway serves what another writer commits to its store
 * (no restart), and a write that touches nothing routed keeps the proxy's runtime objects, so
 * round-robin goes on where it was.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Change } from '../src/core/change.js';
import { parseRoute } from '../src/core/resources/route.js';
import { parseService } from '../src/core/resources/service.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { tempDir } from './support/server-process.js';

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('write path', () => {
  let one: EchoServer;
  let two: EchoServer;
  before(async () => {
    one = await startEchoServer({ globalHeaders: { 'x-upstream': 'one' } });
    two = await startEchoServer({ globalHeaders: { 'x-upstream': 'two' } });
  });
  after(async () => {
    await one.close();
    await two.close();
  });

  it('serves a route committed to its SQLite file by another store instance, without a restart', async () => {
    const dir = tempDir('dgate-write-path-');
    const gw = await startTestGateway({ storage: { type: 'file', dir } });
    const other = new SqliteStore({ dir });
    try {
      assert.equal((await gw.proxy('/elsewhere')).status, 404);
      const { rev } = await other.load();
      const changes: Change[] = [
        { op: 'put', kind: 'service', namespace: 'default', name: 'up', item: parseService({ name: 'up', namespace: 'default', urls: [one.url] }, {}) },
        {
          op: 'put',
          kind: 'route',
          namespace: 'default',
          name: 'elsewhere',
          item: parseRoute({ name: 'elsewhere', namespace: 'default', paths: ['/elsewhere'], methods: ['GET'], service: 'up' }, {}),
        },
      ];
      const committed = await other.commit(changes, { expectRev: rev });
      await eventually('the route to be served', async () => (await gw.proxy('/elsewhere')).status === 200);
      assert.equal(gw.gateway.syncer.rev, committed);
      // The admin API reads the same state, and writes build on it (no 409 for the foreign revision).
      assert.equal((await gw.admin('GET', '/api/v1/route/elsewhere')).status, 200);
      await gw.put('route', { name: 'local', paths: ['/local'], methods: ['GET'], service: 'up' });
      assert.equal((await gw.proxy('/local')).status, 200);
      assert.equal((await other.load()).rev, committed + 1);
    } finally {
      await other.close();
      await gw.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('with a two-URL service', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway();
      await gw.put('namespace', { name: 'other' });
      await gw.put('service', { name: 'rr', urls: [one.url, two.url] });
      await gw.put('route', { name: 'rr', paths: ['/rr'], methods: ['GET'], service: 'rr' });
      await gw.put('collection', { name: 'notes', namespace: 'default' });
    });
    after(() => gw.close());

    const upstream = async () => (await gw.proxy('/rr')).headers['x-upstream'];

    it('keeps its round-robin position across a document write and a route write in another namespace', async () => {
      const first = await upstream();
      const table = gw.gateway.syncer.rev;
      assert.equal((await gw.admin('PUT', '/api/v1/document/n1?collection=notes', { text: 'hi' })).status, 201);
      assert.ok(gw.gateway.syncer.rev > table);
      const second = await upstream();
      assert.notEqual(second, first, 'the next URL, not the first one again');
      await gw.put('route', { name: 'x', namespace: 'other', paths: ['/x'], methods: ['GET'] });
      const third = await upstream();
      assert.equal(third, first);
      assert.notEqual(await upstream(), third);
    });
  });
});

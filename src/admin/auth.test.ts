import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../core/errors.js';
import type { AdminHarness } from './harness.js';
import { startAdmin } from './harness.js';

const basic = (user: string, pass: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });

async function withAdmin(opts: Parameters<typeof startAdmin>[0], fn: (admin: AdminHarness) => Promise<void>): Promise<void> {
  const admin = await startAdmin(opts);
  try {
    await fn(admin);
  } finally {
    await admin.close();
  }
}

test('basic auth: a matching user passes, anything else is 401 with a challenge', async () => {
  await withAdmin({ authMethod: 'basic', basicUsers: [{ username: 'admin', password: 'pw' }, { username: 'ops', password: 'p:w' }] }, async (admin) => {
    assert.equal((await admin.call('GET', '/api/v1/namespace', undefined, basic('admin', 'pw'))).status, 200);
    assert.equal((await admin.call('GET', '/api/v1/namespace', undefined, basic('ops', 'p:w'))).status, 200);
    for (const headers of [{}, basic('admin', 'nope'), basic('nobody', 'pw'), { Authorization: 'Bearer x' }, { Authorization: 'Basic !!!' }]) {
      const r = await admin.call('GET', '/healthz', undefined, headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.equal(r.headers.get('www-authenticate'), 'Basic realm="Access to DGate Admin API"');
      assert.equal(r.json.error, 'Unauthorized');
      assert.equal(r.json.code, 'DG_ERR_UNAUTHORIZED');
    }
  });
});

test('basic auth without users refuses everyone', async () => {
  await withAdmin({ authMethod: 'basic', basicUsers: [] }, async (admin) => {
    assert.equal((await admin.call('GET', '/healthz', undefined, basic('a', 'b'))).status, 401);
  });
});

test('a basic auth user without a password is a configuration error', async () => {
  await assert.rejects(startAdmin({ authMethod: 'basic', basicUsers: [{ username: 'a', password: '' }] }), (e: unknown) => e instanceof GatewayError && e.code === 'DG_ERR_CONFIG');
});

test('key auth reads X-DGate-Key by default', async () => {
  await withAdmin({ authMethod: 'key', keyAuth: { keys: ['k1', 'k2'] } }, async (admin) => {
    assert.equal((await admin.call('GET', '/api/v1/route', undefined, { 'X-DGate-Key': 'k2' })).status, 200);
    assert.equal((await admin.call('GET', '/api/v1/route', undefined, { 'X-DGate-Key': 'k3' })).status, 401);
    const none = await admin.call('GET', '/api/v1/route');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), null);
  });
});

test('key auth with a header name reads that header only', async () => {
  await withAdmin({ authMethod: 'key', keyAuth: { keys: ['k1'], headerName: 'X-Api-Key' } }, async (admin) => {
    assert.equal((await admin.call('GET', '/healthz', undefined, { 'x-api-key': 'k1' })).status, 200);
    assert.equal((await admin.call('GET', '/healthz', undefined, { 'X-DGate-Key': 'k1' })).status, 401);
  });
});

test('key auth with a query parameter name reads the query only', async () => {
  await withAdmin({ authMethod: 'key', keyAuth: { keys: ['k1'], queryParamName: 'api_key' } }, async (admin) => {
    assert.equal((await admin.call('GET', '/api/v1/namespace?api_key=k1')).status, 200);
    assert.equal((await admin.call('GET', '/api/v1/namespace?api_key=k2')).status, 401);
    assert.equal((await admin.call('GET', '/api/v1/namespace', undefined, { 'X-DGate-Key': 'k1' })).status, 401);
  });
});

test('auth runs before routing: unknown paths are 401 too', async () => {
  await withAdmin({ authMethod: 'key', keyAuth: { keys: ['k1'] } }, async (admin) => {
    assert.equal((await admin.call('GET', '/nope')).status, 401);
    assert.equal((await admin.call('GET', '/nope', undefined, { 'X-DGate-Key': 'k1' })).status, 404);
  });
});

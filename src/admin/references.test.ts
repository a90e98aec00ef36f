import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AdminHarness } from './harness.js';
import { b64, startAdmin } from './harness.js';

let admin: AdminHarness;
before(async () => {
  admin = await startAdmin();
  await admin.seed(
    ['namespace', { name: 'ns1' }],
    ['service', { name: 'svc1', namespace: 'ns1', urls: ['http://127.0.0.1:9'] }],
    ['module', { name: 'm1', namespace: 'ns1', payload: b64('export {}') }],
    ['route', { name: 'r1', namespace: 'ns1', paths: ['/1'], methods: ['GET'], service: 'svc1', modules: ['m1'] }],
    ['route', { name: 'r2', namespace: 'ns1', paths: ['/2'], methods: ['GET'], service: 'svc1' }],
    ['secret', { name: 'k', namespace: 'ns1', data: 'x' }],
  );
});
after(() => admin.close());

async function refusedDelete(path: string, body: unknown, message: string): Promise<void> {
  const rev = await admin.rev();
  const r = await admin.call('DELETE', path, body);
  assert.equal(r.status, 409, message);
  assert.equal(r.json.error, message);
  assert.equal(r.json.code, 'DG_ERR_STILL_REFERENCED');
  assert.equal(await admin.rev(), rev, 'the revision is unchanged after a refused write');
}

test('a service used by routes cannot be deleted; the refusal names every route', async () => {
  await refusedDelete('/api/v1/service/svc1?namespace=ns1', undefined, 'cannot delete service: svc1: still referenced by route r1, route r2');
  await refusedDelete('/api/v1/service', { name: 'svc1', namespace: 'ns1' }, 'cannot delete service: svc1: still referenced by route r1, route r2');
  assert.equal((await admin.call('GET', '/api/v1/service/svc1?namespace=ns1')).status, 200);
});

test('a module used by a route cannot be deleted', async () => {
  await refusedDelete('/api/v1/module/m1?namespace=ns1', undefined, 'cannot delete module: m1: still referenced by route r1');
});

test('a namespace cannot be deleted while anything is in it, secrets included', async () => {
  await refusedDelete('/api/v1/namespace/ns1', undefined, 'cannot delete namespace: ns1: still referenced by service svc1, route r1, route r2, module m1, secret k');
  assert.equal((await admin.call('GET', '/api/v1/namespace/ns1')).status, 200);
});

test('missing references are 422 and leave the old item in place', async () => {
  const rev = await admin.rev();
  const r = await admin.call('PUT', '/api/v1/route', { name: 'r2', namespace: 'ns1', paths: ['/2'], methods: ['GET'], service: 'gone' });
  assert.equal(r.status, 422);
  assert.equal(r.json.error, 'service not found: gone');
  assert.equal(await admin.rev(), rev);
  assert.equal((await admin.call('GET', '/api/v1/route/r2?namespace=ns1')).json.data.service, 'svc1');
});

test('once the referrers are gone, the deletes go through in dependency order', async () => {
  for (const path of [
    '/api/v1/route/r1?namespace=ns1', '/api/v1/route/r2?namespace=ns1', '/api/v1/service/svc1?namespace=ns1',
    '/api/v1/module/m1?namespace=ns1', '/api/v1/secret/k?namespace=ns1', '/api/v1/namespace/ns1',
  ]) {
    const r = await admin.call('DELETE', path);
    assert.equal(r.status, 204, `${path}: ${r.text}`);
  }
});

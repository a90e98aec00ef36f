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
    ['module', { name: 'm2', namespace: 'ns1', payload: b64('export {}') }],
    ['module', { name: 'm1', namespace: 'ns1', payload: b64('export {}') }],
  );
});
after(() => admin.close());

test('PUT /route stores methods upper-cased and modules in the order given', async () => {
  const r = await admin.call('PUT', '/api/v1/route', {
    name: 'r1', namespace: 'ns1', paths: ['/a', '/b/{id}'], methods: ['get', 'Post'], service: 'svc1', modules: ['m2', 'm1'], stripPath: true,
  });
  assert.equal(r.status, 201);
  assert.deepEqual(r.json.data, {
    name: 'r1', namespace: 'ns1', paths: ['/a', '/b/{id}'], methods: ['GET', 'POST'], preserveHost: false, stripPath: true, service: 'svc1', modules: ['m2', 'm1'],
  });
  assert.deepEqual((await admin.call('GET', '/api/v1/route/r1?namespace=ns1')).json.data, r.json.data);
});

test('GET /route lists the namespace\'s routes sorted by name', async () => {
  await admin.seed(['route', { name: 'r0', namespace: 'ns1', paths: ['/'], methods: ['*'] }]);
  const r = await admin.call('GET', '/api/v1/route?namespace=ns1');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.data.map((x: { name: string }) => x.name), ['r0', 'r1']);
});

test('invalid routes are 400 naming the field', async () => {
  const base = { name: 'rx', namespace: 'ns1', paths: ['/'], methods: ['GET'] };
  const cases: Array<[object, string]> = [
    [{ ...base, paths: undefined }, 'paths: is required'],
    [{ ...base, paths: ['/', 'abc'] }, 'paths[1]: must begin with "/"'],
    [{ ...base, methods: [] }, 'methods: must be a non-empty array of strings'],
    [{ ...base, methods: ['GET', 'BREW'] }, 'methods[1]: unsupported method: BREW'],
    [{ ...base, methods: ['*', 'GET'] }, 'methods: "*" cannot be combined with other methods'],
    [{ ...base, modules: ['m1', 'm1'] }, 'modules[1]: duplicate module: m1'],
    [{ ...base, modules: 'm1' }, 'modules: must be an array of module names'],
    [{ ...base, stripPaths: true }, 'stripPaths: unknown field'],
    [{ ...base, preserveHost: 'no' }, 'preserveHost: must be true or false'],
  ];
  for (const [body, message] of cases) {
    const r = await admin.call('PUT', '/api/v1/route', body);
    assert.equal(r.status, 400, message);
    assert.equal(r.json.error, message);
  }
  assert.equal((await admin.call('GET', '/api/v1/route/rx?namespace=ns1')).status, 404);
});

test('a route naming a missing service or module is 422 and changes nothing', async () => {
  const rev = await admin.rev();
  const svc = await admin.call('PUT', '/api/v1/route', { name: 'r1', namespace: 'ns1', paths: ['/'], methods: ['GET'], service: 's404' });
  assert.equal(svc.status, 422);
  assert.equal(svc.json.error, 'service not found: s404');
  const mod = await admin.call('PUT', '/api/v1/route', { name: 'r1', namespace: 'ns1', paths: ['/'], methods: ['GET'], modules: ['m1', 'mx'] });
  assert.equal(mod.status, 422);
  assert.equal(mod.json.error, 'module not found: mx');
  assert.equal(await admin.rev(), rev);
  assert.equal((await admin.call('GET', '/api/v1/route/r1?namespace=ns1')).json.data.service, 'svc1');
});

test('updating a route without its service releases the service', async () => {
  await admin.seed(['route', { name: 'r1', namespace: 'ns1', paths: ['/'], methods: ['GET'] }]);
  assert.equal((await admin.call('DELETE', '/api/v1/service/svc1?namespace=ns1')).status, 204);
});

test('DELETE /route by body and by path', async () => {
  assert.equal((await admin.call('DELETE', '/api/v1/route', { name: 'r0', namespace: 'ns1' })).status, 204);
  assert.equal((await admin.call('DELETE', '/api/v1/route/r1?namespace=ns1')).status, 204);
  assert.deepEqual((await admin.call('GET', '/api/v1/route?namespace=ns1')).json, { count: 0, data: [], status_code: 200 });
});

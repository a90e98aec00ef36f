import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AdminHarness } from './harness.js';
import { startAdmin } from './harness.js';

let admin: AdminHarness;
before(async () => {
  admin = await startAdmin();
  await admin.seed(['namespace', { name: 'ns1' }]);
});
after(() => admin.close());

test('PUT /domain keeps priority, cert and key; GET /domain/{name} has the list shape', async () => {
  const r = await admin.call('PUT', '/api/v1/domain', {
    name: 'd1', namespace: 'ns1', patterns: ['*.example.com', '/^api\\.(a|b)\\.com$/'], priority: 10, cert: 'CERT', key: 'KEY',
  });
  assert.equal(r.status, 201);
  const item = { name: 'd1', namespace: 'ns1', patterns: ['*.example.com', '/^api\\.(a|b)\\.com$/'], priority: 10, cert: 'CERT', key: 'KEY' };
  assert.deepEqual(r.json.data, item);
  assert.deepEqual((await admin.call('GET', '/api/v1/domain/d1?namespace=ns1')).json.data, item);
  assert.deepEqual((await admin.call('GET', '/api/v1/domain?namespace=ns1')).json.data, [item]);
});

test('invalid domains are 400 naming the field', async () => {
  const cases: Array<[object, RegExp]> = [
    [{ name: 'd2', namespace: 'ns1' }, /^patterns: is required$/],
    [{ name: 'd2', namespace: 'ns1', patterns: ['ok', ''] }, /^patterns\[1\]: must not be empty$/],
    [{ name: 'd2', namespace: 'ns1', patterns: ['/a(/'] }, /^patterns\[0\]: invalid regular expression: /],
    [{ name: 'd2', namespace: 'ns1', patterns: ['a'], priority: 1.5 }, /^priority: must be an integer/],
    [{ name: 'd2', namespace: 'ns1', patterns: ['a'], key: 'KEY' }, /^cert: cert and key must be given together$/],
  ];
  for (const [body, message] of cases) {
    const r = await admin.call('PUT', '/api/v1/domain', body);
    assert.equal(r.status, 400, String(message));
    assert.match(r.json.error, message);
  }
});

test('DELETE /domain by body and by path; a missing domain is 404', async () => {
  await admin.seed(['domain', { name: 'd2', namespace: 'ns1', patterns: ['x'] }]);
  assert.equal((await admin.call('DELETE', '/api/v1/domain', { name: 'd1', namespace: 'ns1' })).status, 204);
  assert.equal((await admin.call('DELETE', '/api/v1/domain/d2?namespace=ns1')).status, 204);
  const missing = await admin.call('DELETE', '/api/v1/domain/d2?namespace=ns1');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error, 'domain not found: d2');
});

test('with the default namespace disabled, GET /domain without namespace lists every domain', async () => {
  const other = await startAdmin({ defaultNamespace: false });
  try {
    await other.seed(
      ['namespace', { name: 'a' }],
      ['namespace', { name: 'b' }],
      ['domain', { name: 'x', namespace: 'b', patterns: ['b.com'] }],
      ['domain', { name: 'y', namespace: 'a', patterns: ['a.com'] }],
    );
    const all = await other.call('GET', '/api/v1/domain');
    assert.equal(all.status, 200);
    assert.deepEqual(all.json.data.map((d: { name: string }) => d.name), ['y', 'x']);
    assert.equal((await other.call('GET', '/api/v1/domain?namespace=b')).json.count, 1);
    // other kinds still need a namespace
    const routes = await other.call('GET', '/api/v1/route');
    assert.equal(routes.status, 400);
    assert.equal(routes.json.error, 'namespace is required');
    const put = await other.call('PUT', '/api/v1/domain', { name: 'z', patterns: ['z.com'] });
    assert.equal(put.status, 400);
    assert.equal(put.json.error, 'namespace is required');
    assert.equal(put.json.code, 'DG_ERR_NAMESPACE_REQUIRED');
  } finally {
    await other.close();
  }
});

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

test('PUT /service stores every field with defaults; durations are answered in nanoseconds', async () => {
  const r = await admin.call('PUT', '/api/v1/service', {
    name: 's1', namespace: 'ns1', urls: ['http://127.0.0.1:9/a?x=1'], retryTimeout: '50ms', requestTimeout: 2_000_000_000, hideDGateHeaders: true,
  });
  assert.equal(r.status, 201);
  assert.deepEqual(r.json.data, {
    name: 's1', namespace: 'ns1', urls: ['http://127.0.0.1:9/a?x=1'], retries: 3, retryTimeout: 50_000_000, connectTimeout: 0,
    requestTimeout: 2_000_000_000, tlsSkipVerify: false, http2Only: false, hideDGateHeaders: true, disableQueryParams: false,
  });
  assert.deepEqual((await admin.call('GET', '/api/v1/service/s1?namespace=ns1')).json.data, r.json.data);
});

test('namespace omitted → the default namespace', async () => {
  const r = await admin.call('PUT', '/api/v1/service', { name: 's0', urls: ['https://example.com'] });
  assert.equal(r.json.data.namespace, 'default');
  assert.equal((await admin.call('GET', '/api/v1/service/s0')).status, 200);
  assert.equal((await admin.call('GET', '/api/v1/service')).json.count, 1);
});

test('GET /service?namespace= lists that namespace only; an unknown namespace is 404', async () => {
  const r = await admin.call('GET', '/api/v1/service?namespace=ns1');
  assert.deepEqual(r.json.data.map((s: { name: string }) => s.name), ['s1']);
  const unknown = await admin.call('GET', '/api/v1/service?namespace=nope');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error, 'namespace not found: nope');
  assert.equal((await admin.call('GET', '/api/v1/service/s1?namespace=nope')).json.error, 'namespace not found: nope');
  assert.equal((await admin.call('GET', '/api/v1/service/zz?namespace=ns1')).json.error, 'service not found: zz');
});

test('invalid services are 400 naming the field, and change nothing', async () => {
  const rev = await admin.rev();
  const cases: Array<[object, string]> = [
    [{ name: 's1', namespace: 'ns1' }, 'urls: is required'],
    [{ name: 's1', namespace: 'ns1', urls: [] }, 'urls: must be a non-empty array of strings'],
    [{ name: 's1', namespace: 'ns1', urls: ['http://ok', 'ftp://x'] }, 'urls[1]: scheme must be http or https'],
    [{ name: 's1', namespace: 'ns1', urls: ['http://ok'], retries: 'three' }, 'retries: must be an integer between 0 and 100'],
    [{ name: 's1', namespace: 'ns1', urls: ['http://ok'], connectTimeout: '5 parsecs' }, 'connectTimeout: must be a duration: integer nanoseconds or a string such as "1.5s"'],
    [{ name: 's1', namespace: 'ns1', urls: ['http://ok'], retryTimeout: -1 }, 'retryTimeout: must not be negative'],
    [{ name: 's1', namespace: 'ns1', urls: ['http://ok'], tlsSkipVerify: 1 }, 'tlsSkipVerify: must be true or false'],
    [{ name: 's1', namespace: 'ns1', url: ['http://ok'] }, 'url: unknown field'],
    [{ name: '', namespace: 'ns1', urls: ['http://ok'] }, 'name: must be 1-128 characters without "/", whitespace or control characters'],
  ];
  for (const [body, message] of cases) {
    const r = await admin.call('PUT', '/api/v1/service', body);
    assert.equal(r.status, 400, message);
    assert.equal(r.json.error, message);
  }
  assert.equal(await admin.rev(), rev);
  assert.equal((await admin.call('GET', '/api/v1/service/s1?namespace=ns1')).json.data.retryTimeout, 50_000_000);
});

test('a service in an unknown namespace is 422', async () => {
  const r = await admin.call('PUT', '/api/v1/service', { name: 's9', namespace: 'ghost', urls: ['http://x'] });
  assert.equal(r.status, 422);
  assert.equal(r.json.error, 'namespace not found: ghost');
  assert.equal(r.json.code, 'DG_ERR_REFERENCE_MISSING');
});

test('DELETE /service by body and by path; a missing one is 404', async () => {
  await admin.seed(['service', { name: 's2', namespace: 'ns1', urls: ['http://x'] }]);
  assert.equal((await admin.call('DELETE', '/api/v1/service', { name: 's2', namespace: 'ns1' })).status, 204);
  assert.equal((await admin.call('DELETE', '/api/v1/service/s0')).status, 204);
  const again = await admin.call('DELETE', '/api/v1/service/s2?namespace=ns1');
  assert.equal(again.status, 404);
  assert.equal(again.json.error, 'service not found: s2');
  const noName = await admin.call('DELETE', '/api/v1/service', { namespace: 'ns1' });
  assert.equal(noName.status, 400);
  assert.equal(noName.json.error, 'name: is required');
});

test('http2Only: true or false is stored; another value is refused naming the field and nothing changes', async () => {
  const rev = await admin.rev();
  const bad = await admin.call('PUT', '/api/v1/service', { name: 'h2', urls: ['http://127.0.0.1:1'], http2Only: 'yes' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'http2Only: must be true or false');
  assert.equal((await admin.call('GET', '/api/v1/service/h2')).status, 404);
  assert.equal(await admin.rev(), rev);
  const h2 = await admin.call('PUT', '/api/v1/service', { name: 'h2', urls: ['http://127.0.0.1:1'], http2Only: true });
  assert.equal(h2.status, 201);
  assert.equal(h2.json.data.http2Only, true);
  const plain = await admin.call('PUT', '/api/v1/service', { name: 'h2', urls: ['http://127.0.0.1:1'], http2Only: false });
  assert.equal(plain.status, 201);
  assert.equal(plain.json.data.http2Only, false);
});

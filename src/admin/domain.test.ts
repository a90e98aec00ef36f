import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AdminHarness } from './harness.js';
import { startAdmin } from './harness.js';
import { selfSignedCertificate } from '../tls/self-signed.js';

let admin: AdminHarness;
before(async () => {
  admin = await startAdmin();
  await admin.seed(['namespace', { name: 'ns1' }]);
});
after(() => admin.close());

const pair = selfSignedCertificate({ commonName: 'example.com', hosts: ['example.com'], days: 1 });
const other = selfSignedCertificate({ commonName: 'other.com', hosts: ['other.com'], days: 1 });

test('PUT /domain keeps priority, cert and key; answers show the key redacted; GET /domain/{name} has the list shape', async () => {
  const r = await admin.call('PUT', '/api/v1/domain', {
    name: 'd1', namespace: 'ns1', patterns: ['*.example.com', '/^api\\.(a|b)\\.com$/'], priority: 10, cert: pair.cert, key: pair.key,
  });
  assert.equal(r.status, 201);
  const item = { name: 'd1', namespace: 'ns1', patterns: ['*.example.com', '/^api\\.(a|b)\\.com$/'], priority: 10, cert: pair.cert, key: '**redacted**' };
  assert.deepEqual(r.json.data, item);
  assert.deepEqual((await admin.call('GET', '/api/v1/domain/d1?namespace=ns1')).json.data, item);
  assert.deepEqual((await admin.call('GET', '/api/v1/domain?namespace=ns1')).json.data, [item]);
  const changelog = JSON.stringify((await admin.call('GET', '/changelog?from=0')).json.changes);
  assert.ok(changelog.includes('"key":"**redacted**"'), changelog);
  assert.ok(!changelog.includes('PRIVATE KEY'), 'the change log shows no private key');
  assert.equal(admin.writer.state.get('domain', 'ns1', 'd1')?.key, pair.key, 'the key itself is stored');
});

test('a domain PUT with the redacted placeholder as key keeps the stored key', async () => {
  const r = await admin.call('PUT', '/api/v1/domain', { name: 'd1', namespace: 'ns1', patterns: ['*.example.com'], priority: 5, cert: pair.cert, key: '**redacted**' });
  assert.equal(r.status, 201);
  assert.equal(admin.writer.state.get('domain', 'ns1', 'd1')?.key, pair.key);
  assert.equal(admin.writer.state.get('domain', 'ns1', 'd1')?.priority, 5);
  const missing = await admin.call('PUT', '/api/v1/domain', { name: 'nokey', namespace: 'ns1', patterns: ['x'], cert: pair.cert, key: '**redacted**' });
  assert.equal(missing.status, 400);
  assert.match(missing.json.error, /^key: is the placeholder "\*\*redacted\*\*" but domain nokey has no stored key/);
});

test('a certificate or key that cannot serve TLS is 400 naming the field, and nothing is stored', async () => {
  const rev = admin.writer.state.rev;
  const cases: Array<[object, RegExp]> = [
    [{ cert: 'CERT', key: pair.key }, /^cert: not a PEM certificate/],
    [{ cert: pair.cert, key: 'KEY' }, /^key: not a PEM private key/],
    [{ cert: pair.cert, key: other.key }, /^key: does not match the certificate in cert$/],
    [{ cert: other.cert, key: '**redacted**' }, /^key: does not match the certificate in cert$/],
  ];
  for (const [fields, message] of cases) {
    const r = await admin.call('PUT', '/api/v1/domain', { name: 'd1', namespace: 'ns1', patterns: ['bad.example.com'], ...fields });
    assert.equal(r.status, 400, String(message));
    assert.match(r.json.error, message);
  }
  assert.equal(admin.writer.state.rev, rev, 'no write happened');
  assert.deepEqual(admin.writer.state.get('domain', 'ns1', 'd1')?.patterns, ['*.example.com']);
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

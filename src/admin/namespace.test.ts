import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AdminHarness } from './harness.js';
import { startAdmin } from './harness.js';

let admin: AdminHarness;
before(async () => (admin = await startAdmin()));
after(() => admin.close());

test('PUT /namespace answers 201 with the stored namespace in the envelope', async () => {
  const r = await admin.call('PUT', '/api/v1/namespace', { name: 'ns1', tags: ['a', 'b'] });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(r.text, '{"data":{"name":"ns1","tags":["a","b"]},"status_code":201}');
});

test('GET /namespace lists every namespace sorted by name, with count', async () => {
  await admin.seed(['namespace', { name: 'b-ns' }], ['namespace', { name: 'A-ns' }]);
  const r = await admin.call('GET', '/api/v1/namespace');
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.json), ['count', 'data', 'status_code']);
  assert.deepEqual(r.json.data.map((n: { name: string }) => n.name), ['A-ns', 'b-ns', 'default', 'ns1']);
  assert.equal(r.json.count, 4);
});

test('GET /namespace/{name} answers the namespace or 404 naming it', async () => {
  const r = await admin.call('GET', '/api/v1/namespace/ns1');
  assert.deepEqual(r.json, { data: { name: 'ns1', tags: ['a', 'b'] }, status_code: 200 });
  const missing = await admin.call('GET', '/api/v1/namespace/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.text, '{"error":"namespace not found: nope","status":404,"code":"DG_ERR_NOT_FOUND"}\n');
});

test('PUT replaces the whole namespace: omitted tags are gone', async () => {
  await admin.seed(['namespace', { name: 'ns1' }]);
  assert.deepEqual((await admin.call('GET', '/api/v1/namespace/ns1')).json.data, { name: 'ns1' });
});

test('DELETE /namespace with a body and DELETE /namespace/{name} both answer 204 without a body', async () => {
  const a = await admin.call('DELETE', '/api/v1/namespace', { name: 'A-ns' });
  assert.equal(a.status, 204);
  assert.equal(a.text, '');
  const b = await admin.call('DELETE', '/api/v1/namespace/b-ns');
  assert.equal(b.status, 204);
  assert.equal((await admin.call('GET', '/api/v1/namespace/A-ns')).status, 404);
  assert.equal((await admin.call('GET', '/api/v1/namespace/b-ns')).status, 404);
});

test('deleting a missing namespace is 404', async () => {
  const r = await admin.call('DELETE', '/api/v1/namespace/A-ns');
  assert.equal(r.status, 404);
  assert.equal(r.json.error, 'namespace not found: A-ns');
});

test('a namespace name must follow the name rule; name is required', async () => {
  const bad = await admin.call('PUT', '/api/v1/namespace', { name: 'a/b' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'name: must be 1-128 characters without "/", whitespace or control characters');
  assert.equal(bad.json.code, 'DG_ERR_VALIDATION');
  const missing = await admin.call('PUT', '/api/v1/namespace', { tags: [] });
  assert.equal(missing.json.error, 'name: is required');
  const tags = await admin.call('PUT', '/api/v1/namespace', { name: 'x', tags: ['ok', 3] });
  assert.equal(tags.json.error, 'tags[1]: must be a string');
});

test('the default namespace can be replaced like any other', async () => {
  const r = await admin.call('PUT', '/api/v1/namespace', { name: 'default', tags: ['mine'] });
  assert.equal(r.status, 201);
  assert.deepEqual((await admin.call('GET', '/api/v1/namespace/default')).json.data.tags, ['mine']);
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AdminHarness } from './harness.js';
import { startAdmin } from './harness.js';

let admin: AdminHarness;
before(async () => (admin = await startAdmin()));
after(() => admin.close());

const SECRET = 's3cr3t-value';

test('secrets are write-only: PUT, GET and lists answer data redacted', async () => {
  const put = await admin.call('PUT', '/api/v1/secret', { name: 'k1', data: SECRET, tags: ['x'] });
  assert.equal(put.status, 201);
  assert.deepEqual(put.json.data, { name: 'k1', namespace: 'default', data: '**redacted**', tags: ['x'] });
  const one = await admin.call('GET', '/api/v1/secret/k1');
  assert.equal(one.json.data.data, '**redacted**');
  const list = await admin.call('GET', '/api/v1/secret');
  assert.equal(list.json.data[0].data, '**redacted**');
  for (const r of [put, one, list]) assert.ok(!r.text.includes(SECRET));
  // the stored item keeps the real value
  assert.equal(admin.writer.state.get('secret', 'default', 'k1')?.data, SECRET);
});

test('/changelog history never shows secret data', async () => {
  const r = await admin.call('GET', '/changelog?from=0');
  assert.equal(r.status, 200);
  assert.ok(!r.text.includes(SECRET));
  assert.ok(r.text.includes('**redacted**'));
});

test('data is required and must be a string', async () => {
  assert.equal((await admin.call('PUT', '/api/v1/secret', { name: 'k2' })).json.error, 'data: is required');
  assert.equal((await admin.call('PUT', '/api/v1/secret', { name: 'k2', data: { a: 1 } })).json.error, 'data: must be a string');
});

test('DELETE /secret by body and by path', async () => {
  await admin.seed(['secret', { name: 'k2', data: 'x' }]);
  assert.equal((await admin.call('DELETE', '/api/v1/secret', { name: 'k1', namespace: 'default' })).status, 204);
  assert.equal((await admin.call('DELETE', '/api/v1/secret/k2')).status, 204);
  assert.equal((await admin.call('GET', '/api/v1/secret/k2')).json.error, 'secret not found: k2');
});

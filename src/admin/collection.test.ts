import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AdminHarness } from './harness.js';
import { startAdmin } from './harness.js';

let admin: AdminHarness;
before(async () => (admin = await startAdmin()));
after(() => admin.close());

const schema = { type: 'object', properties: { url: { type: 'string' } } };

test('PUT /collection answers schema, visibility and type; GET /collection/{name} has the list shape', async () => {
  const r = await admin.call('PUT', '/api/v1/collection', { name: 'links', schema, type: 'document' });
  assert.equal(r.status, 201);
  const item = { name: 'links', namespace: 'default', schema, visibility: 'public', type: 'document' };
  assert.deepEqual(r.json.data, item);
  assert.deepEqual((await admin.call('GET', '/api/v1/collection/links')).json.data, item);
  assert.deepEqual((await admin.call('GET', '/api/v1/collection')).json.data, [item]);
});

test('a schema ajv cannot compile is 400 with ajv\'s message, never a crash', async () => {
  const r = await admin.call('PUT', '/api/v1/collection', { name: 'bad', schema: { type: 'integer', minimum: 'five' } });
  assert.equal(r.status, 400);
  assert.match(r.json.error, /^schema: schema is invalid: data\/minimum must be number$/);
  const ref = await admin.call('PUT', '/api/v1/collection', { name: 'bad', schema: { $ref: 'http://elsewhere/schema.json' } });
  assert.equal(ref.status, 400);
  assert.match(ref.json.error, /^schema: can't resolve reference/);
  assert.equal((await admin.call('GET', '/api/v1/collection/bad')).status, 404);
});

test('visibility and type are closed sets', async () => {
  assert.equal((await admin.call('PUT', '/api/v1/collection', { name: 'c', visibility: 'secret' })).json.error, 'visibility: must be one of "public", "private"');
  assert.equal((await admin.call('PUT', '/api/v1/collection', { name: 'c', type: 'kv' })).json.error, 'type: must be one of "document", "fetcher"');
  assert.equal((await admin.call('PUT', '/api/v1/collection', { name: 'c', schema: 'x' })).json.error, 'schema: must be a JSON object');
});

test('a collection with documents cannot be deleted; once empty it can', async () => {
  assert.equal((await admin.call('PUT', '/api/v1/document/d1?collection=links', { url: 'https://x' })).status, 201);
  const refused = await admin.call('DELETE', '/api/v1/collection/links');
  assert.equal(refused.status, 409);
  assert.equal(refused.json.error, 'cannot delete collection: links: still referenced by document links/d1');
  assert.equal((await admin.call('DELETE', '/api/v1/document?collection=links')).status, 204);
  assert.equal((await admin.call('DELETE', '/api/v1/collection', { name: 'links' })).status, 204);
});

test('a new schema that existing documents fail is 422 and keeps the old schema', async () => {
  await admin.seed(['collection', { name: 'c2' }]);
  await admin.call('PUT', '/api/v1/document/d1?collection=c2', { n: 'one' });
  const r = await admin.call('PUT', '/api/v1/collection', { name: 'c2', schema: { properties: { n: { type: 'number' } } } });
  assert.equal(r.status, 422);
  assert.equal(r.json.error, 'document does not match the schema of collection c2: document d1: data/n: must be number');
  assert.deepEqual((await admin.call('GET', '/api/v1/collection/c2')).json.data.schema, {});
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AdminHarness } from './harness.js';
import { FIXED_NOW, startAdmin } from './harness.js';

let admin: AdminHarness;
let now = FIXED_NOW;
before(async () => {
  admin = await startAdmin({ now: () => now });
  await admin.seed(
    ['namespace', { name: 'ns1' }],
    ['collection', { name: 'links', namespace: 'ns1', schema: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] } }],
    ['collection', { name: 'hidden', namespace: 'ns1', visibility: 'private' }],
    ['collection', { name: 'any' }],
  );
});
after(() => admin.close());

const LINKS = 'namespace=ns1&collection=links';

test('PUT /document/{id} stores the body as data and answers the document', async () => {
  const r = await admin.call('PUT', `/api/v1/document/abc?${LINKS}`, { url: 'https://example.com' });
  assert.equal(r.status, 201);
  assert.deepEqual(r.json.data, {
    id: 'abc', namespace: 'ns1', collection: 'links', data: { url: 'https://example.com' }, createdAt: FIXED_NOW.toISOString(), updatedAt: FIXED_NOW.toISOString(),
  });
  assert.deepEqual((await admin.call('GET', `/api/v1/document/abc?${LINKS}`)).json.data, r.json.data);
});

test('an update keeps createdAt and moves updatedAt', async () => {
  now = new Date('2024-06-01T00:00:00.000Z');
  const r = await admin.call('PUT', `/api/v1/document/abc?${LINKS}`, { url: 'https://example.org' });
  assert.equal(r.json.data.createdAt, FIXED_NOW.toISOString());
  assert.equal(r.json.data.updatedAt, now.toISOString());
});

test('data must satisfy the collection schema: 422 naming the failing path, nothing stored', async () => {
  const rev = await admin.rev();
  const r = await admin.call('PUT', `/api/v1/document/bad?${LINKS}`, { url: 42 });
  assert.equal(r.status, 422);
  assert.equal(r.json.error, 'document does not match the schema of collection links: data/url: must be string');
  assert.equal(r.json.code, 'DG_ERR_DOCUMENT_INVALID');
  const missing = await admin.call('PUT', `/api/v1/document/bad?${LINKS}`, {});
  assert.equal(missing.json.error, "document does not match the schema of collection links: data: must have required property 'url'");
  assert.equal(await admin.rev(), rev);
  assert.equal((await admin.call('GET', `/api/v1/document/bad?${LINKS}`)).status, 404);
});

test('any JSON value is data in a collection without schema', async () => {
  for (const data of ['text', 42, [1, 2], null, { nested: { a: true } }]) {
    const r = await admin.call('PUT', '/api/v1/document/v?collection=any', JSON.stringify(data));
    assert.equal(r.status, 201, JSON.stringify(data));
    assert.deepEqual(r.json.data.data, data);
  }
  assert.equal((await admin.call('PUT', '/api/v1/document/v?collection=any')).json.error, 'data: is required');
});

test('addressing errors: collection required, unknown namespace or collection, bad ids', async () => {
  const noColl = await admin.call('GET', '/api/v1/document/abc?namespace=ns1');
  assert.equal(noColl.status, 400);
  assert.equal(noColl.json.error, 'collection: is required');
  assert.equal((await admin.call('GET', '/api/v1/document/abc?namespace=zz&collection=links')).json.error, 'namespace not found: zz');
  const coll = await admin.call('GET', '/api/v1/document?namespace=ns1&collection=zz');
  assert.equal(coll.status, 404);
  assert.equal(coll.json.error, 'collection not found: zz');
  const put = await admin.call('PUT', '/api/v1/document/x?namespace=ns1&collection=zz', {});
  assert.equal(put.status, 422);
  assert.equal(put.json.error, 'collection not found: zz');
  const badId = await admin.call('PUT', `/api/v1/document/a%20b?${LINKS}`, { url: 'u' });
  assert.equal(badId.status, 400);
  assert.equal(badId.json.error, 'id: must be 1-128 characters without "/", whitespace or control characters');
  assert.equal((await admin.call('GET', `/api/v1/document/nope?${LINKS}`)).json.error, 'document not found: nope');
});

test('documents of a private collection cannot be read through the admin API (403)', async () => {
  assert.equal((await admin.call('PUT', '/api/v1/document/s?namespace=ns1&collection=hidden', { a: 1 })).status, 201);
  for (const path of ['/api/v1/document/s?namespace=ns1&collection=hidden', '/api/v1/document?namespace=ns1&collection=hidden']) {
    const r = await admin.call('GET', path);
    assert.equal(r.status, 403);
    assert.equal(r.json.error, 'collection is private');
  }
});

test('GET /document pages through a collection sorted by id, with total, limit and offset', async () => {
  for (const id of ['d3', 'd1', 'd2', 'd4']) await admin.call('PUT', `/api/v1/document/${id}?collection=any`, { id });
  const first = await admin.call('GET', '/api/v1/document?collection=any&limit=2');
  assert.equal(first.status, 200);
  assert.deepEqual(Object.keys(first.json), ['count', 'data', 'limit', 'offset', 'status_code', 'total']);
  assert.deepEqual(first.json.data.map((d: { id: string }) => d.id), ['d1', 'd2']);
  assert.deepEqual([first.json.count, first.json.total, first.json.limit, first.json.offset], [2, 5, 2, 0]);
  const rest = await admin.call('GET', '/api/v1/document?collection=any&limit=10&offset=2');
  assert.deepEqual(rest.json.data.map((d: { id: string }) => d.id), ['d3', 'd4', 'v']);
  assert.equal((await admin.call('GET', '/api/v1/document?collection=any')).json.limit, 100);
  for (const [query, message] of [
    ['limit=abc', 'limit: must be an integer between 0 and 1000'],
    ['limit=1001', 'limit: must be an integer between 0 and 1000'],
    ['limit=-1', 'limit: must be an integer between 0 and 1000'],
    ['offset=1.5', `offset: must be an integer between 0 and ${Number.MAX_SAFE_INTEGER}`],
  ]) {
    const r = await admin.call('GET', `/api/v1/document?collection=any&${query}`);
    assert.equal(r.status, 400, query);
    assert.equal(r.json.error, message);
  }
});

test('DELETE one document by path or by body; a missing one is 404', async () => {
  assert.equal((await admin.call('DELETE', '/api/v1/document/d1?collection=any')).status, 204);
  assert.equal((await admin.call('DELETE', '/api/v1/document', { id: 'd2', collection: 'any' })).status, 204);
  const missing = await admin.call('DELETE', '/api/v1/document/d1?collection=any');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error, 'document not found: d1');
  assert.equal((await admin.call('GET', '/api/v1/document?collection=any')).json.total, 3);
});

test('DELETE /document without a body deletes the whole collection\'s documents in one revision', async () => {
  const rev = await admin.rev();
  assert.equal((await admin.call('DELETE', '/api/v1/document?collection=any')).status, 204);
  assert.equal(await admin.rev(), rev + 1);
  assert.equal((await admin.call('GET', '/api/v1/document?collection=any')).json.total, 0);
  assert.equal((await admin.call('GET', '/api/v1/document?namespace=ns1&collection=links')).json.total, 1, 'other collections untouched');
  assert.equal((await admin.call('DELETE', '/api/v1/document?collection=nope')).json.error, 'collection not found: nope');
});

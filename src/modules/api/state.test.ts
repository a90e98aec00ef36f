import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as stateApi from './state.js';
import { USERS_SCHEMA, createTestHost } from './test-host.js';
import { until } from '../../../test/support/until.js';

const host = await createTestHost();
const s = stateApi.create(host) as Record<string, any>;

test('name is dgate/state; collections cannot be added or deleted from modules', () => {
  assert.equal(stateApi.name, 'dgate/state');
  assert.deepEqual(Object.keys(s).sort(), ['addDocument', 'deleteDocument', 'getCollection', 'getDocument', 'getDocuments']);
  assert.equal(s.addCollection, undefined);
  assert.equal(s.deleteCollection, undefined);
});

test('every function returns a promise, even for bad arguments', async () => {
  const p = s.getDocument(undefined, 'users');
  assert.ok(p instanceof Promise);
  await assert.rejects(p, { message: 'id: is required' });
  await assert.rejects(s.getDocuments('users'), TypeError);
});

test('getCollection resolves with a copy of the collection, or null when missing', async () => {
  const c = await s.getCollection('users');
  assert.deepEqual(c, { name: 'users', namespace: 'ns1', schema: USERS_SCHEMA, visibility: 'public', type: 'document' });
  c.schema.required.push('x');
  assert.deepEqual((await s.getCollection('users')).schema, USERS_SCHEMA);
  assert.equal(await s.getCollection('missing'), null);
});

test('addDocument writes through the gateway and resolves with the stored document', async () => {
  const revBefore = host.state().rev;
  const doc = await s.addDocument({ id: 'u1', collection: 'users', data: { name: 'Ada', age: 36 } });
  assert.equal(doc.id, 'u1');
  assert.equal(doc.namespace, 'ns1');
  assert.equal(doc.collection, 'users');
  assert.deepEqual(doc.data, { name: 'Ada', age: 36 });
  assert.equal(doc.createdAt, doc.updatedAt);
  assert.equal(host.state().rev, revBefore + 1);
  assert.deepEqual((await host.store.load()).items.find((i) => i.name === 'users/u1')?.item, doc);
  assert.deepEqual(await s.getDocument('u1', 'users'), doc);
});

test('data violating the collection schema rejects with the validation message and changes nothing', async () => {
  const rev = host.state().rev;
  await assert.rejects(s.addDocument({ id: 'bad', collection: 'users', data: { name: 42 } }), (err: any) => {
    assert.equal(err.message, 'document does not match the schema of collection users: data/name: must be string');
    assert.equal(err.code, 'DG_ERR_DOCUMENT_INVALID');
    assert.equal(err.status, 422);
    return true;
  });
  await assert.rejects(s.addDocument({ id: 'u1', collection: 'users', data: { nick: 'x' } }), /must have required property 'name'/);
  assert.equal(host.state().rev, rev);
  assert.equal(await s.getDocument('bad', 'users'), null);
  assert.deepEqual((await s.getDocument('u1', 'users')).data, { name: 'Ada', age: 36 });
});

test('replacing a document keeps createdAt; data is stored as JSON and detached from the caller', async () => {
  const first = await s.getDocument('u1', 'users');
  await until(() => Date.now() > new Date(first.updatedAt).getTime(), 'the clock to move past the first write');
  const data = { name: 'Ada L.', age: undefined };
  const doc = await s.addDocument({ id: 'u1', collection: 'users', data });
  assert.equal(doc.createdAt, first.createdAt);
  assert.ok(doc.updatedAt > first.updatedAt);
  assert.deepEqual(doc.data, { name: 'Ada L.' });
  data.name = 'mutated';
  doc.data.name = 'mutated too';
  assert.equal((await s.getDocument('u1', 'users')).data.name, 'Ada L.');
  const dated = await s.addDocument({ id: 'd', collection: 'notes', data: { at: new Date(0) } });
  assert.deepEqual(dated.data, { at: '1970-01-01T00:00:00.000Z' });
  await assert.rejects(s.addDocument({ id: 'big', collection: 'notes', data: { n: 1n } }), /^Error: data: must be JSON/);
  await assert.rejects(s.addDocument({ id: 'none', collection: 'notes' }), { message: 'data: is required' });
});

test('getDocument: null for a missing document, a rejection for a missing collection', async () => {
  assert.equal(await s.getDocument('nobody', 'users'), null);
  await assert.rejects(s.getDocument('u1', 'ghosts'), { message: 'collection not found: ghosts', code: 'DG_ERR_NOT_FOUND' });
});

test('addDocument to a missing collection or with another namespace is refused', async () => {
  const rev = host.state().rev;
  await assert.rejects(s.addDocument({ id: 'x', collection: 'ghosts', data: {} }), { message: 'collection not found: ghosts' });
  await assert.rejects(s.addDocument({ id: 'x', collection: 'users', namespace: 'other', data: { name: 'x' } }), {
    message: 'namespace: a module can only write to its own namespace (ns1)',
  });
  await assert.rejects(s.addDocument({ id: 'a/b', collection: 'notes', data: 1 }), /^Error: id: must be 1-128 characters/);
  assert.equal(host.state().rev, rev);
  assert.equal(host.state().get('document', 'other', 'users/x'), undefined);
  // naming its own namespace explicitly is fine
  assert.equal((await s.addDocument({ id: 'x', collection: 'notes', namespace: 'ns1', data: 1 })).data, 1);
});

test('a module only sees its own namespace', async () => {
  const other = stateApi.create({ ...host, namespace: 'other' }) as Record<string, any>;
  assert.equal(await other.getDocument('u1', 'users'), null);
  assert.equal((await other.getCollection('users')).namespace, 'other');
  assert.equal(await other.getCollection('notes'), null);
});

test('getDocuments pages through one collection sorted by id: default limit 100, offset 0', async () => {
  const ids = Array.from({ length: 120 }, (_, i) => `n${String(i).padStart(3, '0')}`);
  await host.write(() =>
    ids.map((id) => ({
      op: 'put' as const,
      kind: 'document' as const,
      namespace: 'ns1',
      name: `notes/${id}`,
      item: { id, namespace: 'ns1', collection: 'notes', data: id, createdAt: '', updatedAt: '' },
    })),
  );
  const all = [...ids, 'd', 'x'].sort(); // d and x were added to notes above
  const first = await s.getDocuments({ collection: 'notes' });
  assert.equal(first.length, 100);
  assert.deepEqual(first.map((d: any) => d.id), all.slice(0, 100));
  const second = await s.getDocuments({ collection: 'notes', limit: 100, offset: 100 });
  assert.deepEqual(second.map((d: any) => d.id), all.slice(100));
  assert.deepEqual((await s.getDocuments({ collection: 'notes', limit: 2, offset: 3 })).map((d: any) => d.id), all.slice(3, 5));
  assert.deepEqual(await s.getDocuments({ collection: 'notes', limit: 0 }), []);
  assert.deepEqual(await s.getDocuments({ collection: 'notes', offset: 1000 }), []);
  // only the collection asked for
  assert.deepEqual((await s.getDocuments({ collection: 'users' })).map((d: any) => d.id), ['u1']);
});

test('getDocuments rejects bad paging values and a missing collection', async () => {
  await assert.rejects(s.getDocuments({ collection: 'notes', limit: 1001 }), { message: 'limit: must be an integer between 0 and 1000' });
  await assert.rejects(s.getDocuments({ collection: 'notes', limit: -1 }), RangeError);
  await assert.rejects(s.getDocuments({ collection: 'notes', offset: 1.5 }), RangeError);
  await assert.rejects(s.getDocuments({ collection: 'ghosts' }), { message: 'collection not found: ghosts' });
});

test('deleteDocument removes a document; deleting a missing one rejects with document not found', async () => {
  assert.equal(await s.deleteDocument({ id: 'u1', collection: 'users' }), undefined);
  assert.equal(await s.getDocument('u1', 'users'), null);
  await assert.rejects(s.deleteDocument({ id: 'u1', collection: 'users' }), { message: 'document not found: u1', code: 'DG_ERR_NOT_FOUND' });
  await assert.rejects(s.deleteDocument('u1'), TypeError);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as storageApi from './storage.js';
import { createTestHost } from './test-host.js';

const host = await createTestHost();
const st = storageApi.create(host) as Record<string, any>;

test('name is dgate/storage', () => {
  assert.equal(storageApi.name, 'dgate/storage');
});

test('getCache reads back what setCache stored (DGate never could); missing → null', () => {
  st.setCache('k', { n: 1 });
  assert.deepEqual(st.getCache('k'), { n: 1 });
  assert.equal(st.getCache('missing'), null);
  st.setCache('k', 'replaced');
  assert.equal(st.getCache('k'), 'replaced');
});

test('values are copies: mutating what was passed or received does not change the stored value', () => {
  const v = { list: [1] };
  st.setCache('copy', v);
  v.list.push(2);
  const got = st.getCache('copy');
  got.list.push(3);
  assert.deepEqual(st.getCache('copy'), { list: [1] });
  assert.throws(() => st.setCache('fn', () => 1), { name: 'DataCloneError' });
});

test('an entry expires after ttl seconds (fractions allowed)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  st.setCache('short', 'v', { ttl: 0.5 });
  t.mock.timers.tick(499);
  assert.equal(st.getCache('short'), 'v');
  t.mock.timers.tick(1);
  assert.equal(st.getCache('short'), null);
  assert.equal(host.cache.has('short'), false);
});

test('ttl must be a positive number; no ttl keeps the entry', () => {
  for (const ttl of [0, -1, Number.NaN, Infinity, '10']) {
    assert.throws(() => st.setCache('bad', 1, { ttl }), RangeError, String(ttl));
  }
  assert.equal(st.getCache('bad'), null);
  st.setCache('forever', 1, {});
  st.setCache('forever2', 2);
  assert.equal(host.cache.get('forever')!.expires, Infinity);
  assert.equal(st.getCache('forever2'), 2);
});

test('deleteCache removes an entry and says whether there was one', () => {
  st.setCache('d', 1);
  assert.equal(st.deleteCache('d'), true);
  assert.equal(st.deleteCache('d'), false);
  assert.equal(st.getCache('d'), null);
});

test('keys must be strings', () => {
  assert.throws(() => st.setCache(1, 'v'), TypeError);
  assert.throws(() => st.getCache({}), TypeError);
});

test('the cache is shared by the modules of a namespace (same host.cache) and not by other hosts', async () => {
  const again = storageApi.create(host) as Record<string, any>;
  st.setCache('shared', 'yes');
  assert.equal(again.getCache('shared'), 'yes');
  const elsewhere = storageApi.create(await createTestHost()) as Record<string, any>;
  assert.equal(elsewhere.getCache('shared'), null);
});

test(`at most ${storageApi.MAX_ENTRIES} entries: the one written longest ago is evicted`, async () => {
  const own = await createTestHost();
  const s = storageApi.create(own) as Record<string, any>;
  for (let i = 0; i < storageApi.MAX_ENTRIES; i++) s.setCache(`k${i}`, i);
  s.setCache('k0', 'rewritten'); // moves k0 to the newest position
  s.setCache('new', 'n');
  assert.equal(own.cache.size, storageApi.MAX_ENTRIES);
  assert.equal(s.getCache('k1'), null);
  assert.equal(s.getCache('k0'), 'rewritten');
  assert.equal(s.getCache('k2'), 2);
  assert.equal(s.getCache('new'), 'n');
});

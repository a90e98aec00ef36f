import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Change, ChangeBatch, PutChange } from '../core/change.js';
import { documentName } from '../core/change.js';
import { GatewayError } from '../core/errors.js';
import type { Document, ItemOf, Kind, Service } from '../core/types.js';
import type { ChangeStore, StoredItem } from './store.js';

export interface StoreContractOptions {
  /** the implementation must honour it: the compaction cases depend on a small history */
  historyLimit?: number;
}

export interface StoreHarness {
  store: ChangeStore;
  /** closes `store` (and any earlier reopened one) and opens a new store on the same data */
  reopen?: () => Promise<ChangeStore>;
  /** closes whatever is still open and removes the data */
  cleanup: () => Promise<void>;
}

/**
 * The behaviour every ChangeStore must show. Each implementation's test file calls this with a
 * factory giving a fresh, empty store per case; stores that persist also pass `reopen`, which
 * enables the restart cases.
 */
export function runStoreContract(name: string, open: (opts?: StoreContractOptions) => Promise<StoreHarness>): void {
  async function withStore(opts: StoreContractOptions, fn: (h: StoreHarness) => Promise<void>): Promise<void> {
    const h = await open(opts);
    try {
      await fn(h);
    } finally {
      await h.cleanup();
    }
  }

  describe(`ChangeStore contract: ${name}`, () => {
    it('an empty store is at revision 0 with no items and no history', () =>
      withStore({}, async ({ store }) => {
        assert.deepEqual(await store.load(), { rev: 0, items: [] });
        assert.equal(await store.oldestRev(), 0);
        assert.deepEqual(await store.history(0, 10), []);
      }));

    it('commit returns consecutive revisions starting at 1', () =>
      withStore({}, async ({ store }) => {
        const revs = [];
        for (let i = 0; i < 5; i++) revs.push(await store.commit([ns(`ns${i}`)]));
        assert.deepEqual(revs, [1, 2, 3, 4, 5]);
        assert.equal((await store.load()).rev, 5);
      }));

    it('an empty batch still makes a revision', () =>
      withStore({}, async ({ store }) => {
        assert.equal(await store.commit([]), 1);
        assert.equal(await store.commit([ns('a')]), 2);
        const [empty] = await store.history(1, 1);
        assert.equal(empty?.rev, 1);
        assert.deepEqual(empty?.changes, []);
      }));

    it('a put is visible to load at the commit revision', () =>
      withStore({}, async ({ store }) => {
        const s = service('default', 'users', { urls: ['http://users:8080'], tags: ['a'] });
        const rev = await store.commit([ns('default'), put('service', 'default', 'users', s)]);
        const snap = await store.load();
        assert.equal(snap.rev, rev);
        assert.deepEqual(sorted(snap.items), [
          { kind: 'namespace', namespace: 'default', name: 'default', item: { name: 'default' } },
          { kind: 'service', namespace: 'default', name: 'users', item: s },
        ]);
      }));

    it('a put replaces the whole item', () =>
      withStore({}, async ({ store }) => {
        await store.commit([put('service', 'default', 'users', service('default', 'users', { tags: ['old'], retries: 9 }))]);
        const next = service('default', 'users', { urls: ['http://other'] });
        await store.commit([put('service', 'default', 'users', next)]);
        const { items } = await store.load();
        assert.equal(items.length, 1);
        assert.deepEqual(items[0]?.item, next);
        assert.equal('tags' in (items[0]?.item ?? {}), false);
      }));

    it('a delete removes the item; deleting a missing item is a no-op that still makes a revision', () =>
      withStore({}, async ({ store }) => {
        await store.commit([ns('a'), ns('b')]);
        assert.equal(await store.commit([del('namespace', 'a', 'a')]), 2);
        assert.deepEqual(names(await store.load()), ['namespace/b/b']);
        assert.equal(await store.commit([del('namespace', 'missing', 'missing')]), 3);
        const snap = await store.load();
        assert.equal(snap.rev, 3);
        assert.deepEqual(names(snap), ['namespace/b/b']);
      }));

    it('a batch of many changes is applied atomically under one revision, in order', () =>
      withStore({}, async ({ store }) => {
        await store.commit([ns('gone')]);
        const changes: Change[] = [
          ns('default'),
          ...Array.from({ length: 50 }, (_, i) => put('service', 'default', `s${i}`, service('default', `s${i}`))),
          del('namespace', 'gone', 'gone'),
          put('route', 'default', 'r', route('default', 'r', ['/old'])),
          put('route', 'default', 'r', route('default', 'r', ['/new'])),
          put('route', 'default', 'temp', route('default', 'temp', ['/t'])),
          del('route', 'default', 'temp'),
        ];
        assert.equal(await store.commit(changes), 2);
        const snap = await store.load();
        assert.equal(snap.rev, 2);
        assert.equal(snap.items.length, 1 + 50 + 1);
        assert.deepEqual(snap.items.find((i) => i.name === 'r')?.item, route('default', 'r', ['/new']));
        assert.equal(snap.items.some((i) => i.name === 'temp' || i.name === 'gone'), false);
        const batches = await store.history(2, 10);
        assert.equal(batches.length, 1);
        assert.deepEqual(batches[0]?.changes, changes);
        assert.ok(!Number.isNaN(Date.parse(batches[0]?.at ?? '')), 'batch time is an ISO date');
      }));

    it('expectRev: a matching revision commits, a stale one is refused and changes nothing', () =>
      withStore({}, async ({ store }) => {
        assert.equal(await store.commit([ns('a')], { expectRev: 0 }), 1);
        assert.equal(await store.commit([ns('b')], { expectRev: 1 }), 2);
        const before = await store.load();
        const err = await store.commit([ns('c'), del('namespace', 'a', 'a')], { expectRev: 1 }).then(
          () => assert.fail('stale commit accepted'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof GatewayError);
        assert.equal(err.code, 'DG_ERR_REVISION_CONFLICT');
        assert.equal(err.status, 409);
        assert.match(err.message, /expected revision 1, store is at 2/);
        assert.deepEqual(sorted((await store.load()).items), sorted(before.items));
        assert.equal((await store.load()).rev, 2);
        assert.deepEqual(revsOf(await store.history(0, 10)), [1, 2]);
        assert.equal(await store.commit([ns('c')]), 3, 'the refused commit used no revision');
      }));

    it('watch replays from a revision, then follows new commits', () =>
      withStore({}, async ({ store }) => {
        for (let i = 1; i <= 3; i++) await store.commit([ns(`n${i}`)]);
        const seen: ChangeBatch[] = [];
        let resets = 0;
        const stop = store.watch(2, (b) => seen.push(b), () => resets++);
        await store.commit([ns('n4')]);
        await store.commit([ns('n5')]);
        await waitFor(() => seen.length >= 4);
        assert.deepEqual(revsOf(seen), [2, 3, 4, 5]);
        assert.deepEqual(seen.map((b) => b.changes[0]?.name), ['n2', 'n3', 'n4', 'n5']);
        assert.equal(resets, 0);
        stop();
      }));

    it('watch from 0 or 1 on an empty store follows from the first commit without a reset', () =>
      withStore({}, async ({ store }) => {
        const seen0: number[] = [];
        const seen1: number[] = [];
        let resets = 0;
        const stops = [
          store.watch(0, (b) => seen0.push(b.rev), () => resets++),
          store.watch(1, (b) => seen1.push(b.rev), () => resets++),
        ];
        await store.commit([ns('a')]);
        await store.commit([ns('b')]);
        await waitFor(() => seen0.length >= 2 && seen1.length >= 2);
        await settle();
        assert.deepEqual(seen0, [1, 2]);
        assert.deepEqual(seen1, [1, 2]);
        assert.equal(resets, 0);
        for (const stop of stops) stop();
      }));

    it('watch from a future revision skips the batches before it', () =>
      withStore({}, async ({ store }) => {
        await store.commit([ns('a')]);
        const seen: number[] = [];
        let resets = 0;
        const stop = store.watch(4, (b) => seen.push(b.rev), () => resets++);
        for (let i = 0; i < 4; i++) await store.commit([ns(`x${i}`)]);
        await waitFor(() => seen.length >= 2);
        await settle();
        assert.deepEqual(seen, [4, 5]);
        assert.equal(resets, 0);
        stop();
      }));

    it('watch calls onReset, asynchronously and instead of replaying, when history was compacted', () =>
      withStore({ historyLimit: 3 }, async ({ store }) => {
        for (let i = 1; i <= 6; i++) await store.commit([ns(`n${i}`)]);
        const seen: number[] = [];
        let resets = 0;
        store.watch(2, (b) => seen.push(b.rev), () => resets++);
        assert.equal(resets, 0, 'onReset is not called from inside watch()');
        await waitFor(() => resets === 1);
        await store.commit([ns('n7')]);
        await settle();
        assert.deepEqual(seen, []);
        assert.equal(resets, 1);

        // the oldest revision still held can be resumed from
        assert.equal(await store.oldestRev(), 5);
        const resumed: number[] = [];
        const stop = store.watch(5, (b) => resumed.push(b.rev), () => resets++);
        await waitFor(() => resumed.length >= 3);
        await settle();
        assert.deepEqual(resumed, [5, 6, 7]);
        assert.equal(resets, 1);
        stop();
      }));

    it('unsubscribe stops delivery', () =>
      withStore({}, async ({ store }) => {
        const seen: number[] = [];
        const stop = store.watch(1, (b) => seen.push(b.rev), () => {});
        await store.commit([ns('a')]);
        await waitFor(() => seen.length === 1);
        stop();
        await store.commit([ns('b')]);
        await settle();
        assert.deepEqual(seen, [1]);
        stop(); // calling it again is harmless
      }));

    it('a throwing watcher breaks neither the commit nor the other watchers', () =>
      withStore({}, async ({ store }) => {
        const seen: number[] = [];
        const stops = [
          store.watch(1, () => { throw new Error('listener failure (expected by the test)'); }, () => {}),
          store.watch(1, (b) => seen.push(b.rev), () => {}),
        ];
        assert.equal(await store.commit([ns('a')]), 1);
        assert.equal(await store.commit([ns('b')]), 2);
        await waitFor(() => seen.length >= 2);
        assert.deepEqual(seen, [1, 2]);
        assert.deepEqual(names(await store.load()), ['namespace/a/a', 'namespace/b/b']);
        for (const stop of stops) stop();
      }));

    it('history and oldestRev reflect compaction', () =>
      withStore({ historyLimit: 3 }, async ({ store }) => {
        for (let i = 1; i <= 5; i++) await store.commit([ns(`n${i}`)]);
        assert.equal(await store.oldestRev(), 3);
        assert.deepEqual(revsOf(await store.history(0, 100)), [3, 4, 5]);
        assert.deepEqual(revsOf(await store.history(4, 1)), [4]);
        assert.deepEqual(revsOf(await store.history(6, 10)), []);
        assert.deepEqual(revsOf(await store.history(0, 0)), []);
        assert.equal((await store.load()).items.length, 5, 'compaction drops history, not items');
        assert.equal(await store.commit([]), 6);
        assert.equal(await store.oldestRev(), 4);
      }));

    it('with no history kept, the revision still advances', () =>
      withStore({ historyLimit: 0 }, async ({ store }) => {
        await store.commit([ns('a')]);
        await store.commit([ns('b')]);
        assert.equal(await store.oldestRev(), 0);
        assert.deepEqual(await store.history(0, 10), []);
        assert.equal(await store.commit([ns('c')]), 3);
        assert.equal((await store.load()).rev, 3);
      }));

    it('items of different kinds or namespaces with the same name do not collide', () =>
      withStore({}, async ({ store }) => {
        await store.commit([
          ns('x'),
          ns('y'),
          put('service', 'x', 'x', service('x', 'x')),
          put('service', 'y', 'x', service('y', 'x')),
          put('route', 'x', 'x', route('x', 'x', ['/x'])),
          put('module', 'x', 'x', { name: 'x', namespace: 'x', payload: '', moduleType: 'javascript' }),
        ]);
        assert.equal((await store.load()).items.length, 6);
        await store.commit([del('service', 'x', 'x')]);
        assert.deepEqual(names(await store.load()), [
          'module/x/x',
          'namespace/x/x',
          'namespace/y/y',
          'route/x/x',
          'service/y/x',
        ]);
      }));

    it('documents are named collection/id', () =>
      withStore({}, async ({ store }) => {
        const d1 = doc('default', 'users', '1', { n: 1 });
        const d2 = doc('default', 'users', '2', { n: 2 });
        const other = doc('default', 'users2', '1', { n: 3 });
        await store.commit([
          put('document', 'default', documentName('users', '1'), d1),
          put('document', 'default', documentName('users', '2'), d2),
          put('document', 'default', documentName('users2', '1'), other),
        ]);
        await store.commit([del('document', 'default', 'users/1')]);
        const { items } = await store.load();
        assert.deepEqual(sorted(items), [
          { kind: 'document', namespace: 'default', name: 'users/2', item: d2 },
          { kind: 'document', namespace: 'default', name: 'users2/1', item: other },
        ]);
      }));

    it('objects passed in or handed out are not shared with the stored state', () =>
      withStore({}, async ({ store }) => {
        const s = service('default', 'users', { tags: ['a'] });
        const changes: Change[] = [put('service', 'default', 'users', s)];
        const seen: ChangeBatch[] = [];
        const stop = store.watch(1, (b) => seen.push(b), () => {});
        await store.commit(changes);
        await waitFor(() => seen.length === 1);
        const expected = structuredClone(s);

        s.tags?.push('mutated by caller');
        (seen[0]!.changes[0] as { item: Service }).item.retries = 99;
        const [h] = await store.history(1, 1);
        (h!.changes[0] as { item: Service }).item.urls.push('http://mutated');
        const loaded = await store.load();
        (loaded.items[0]!.item as Service).name = 'mutated';

        assert.deepEqual((await store.load()).items[0]?.item, expected);
        assert.deepEqual(((await store.history(1, 1))[0]?.changes[0] as { item: Service }).item, expected);
        stop();
      }));

    it('close can be called twice', () =>
      withStore({}, async ({ store }) => {
        await store.commit([ns('a')]);
        await store.close();
        await store.close();
      }));

    it('state, revision and history survive a reopen', (t) =>
      withStore({ historyLimit: 10 }, async (h) => {
        if (!h.reopen) return t.skip('store does not persist');
        const s = service('default', 'users');
        await h.store.commit([ns('default'), put('service', 'default', 'users', s)]);
        await h.store.commit([put('route', 'default', 'r', route('default', 'r', ['/']))]);
        await h.store.commit([del('route', 'default', 'r')]);
        const before = await h.store.load();
        const store = await h.reopen();
        const after = await store.load();
        assert.equal(after.rev, 3);
        assert.deepEqual(sorted(after.items), sorted(before.items));
        assert.deepEqual(revsOf(await store.history(0, 10)), [1, 2, 3]);
        assert.equal(await store.commit([ns('more')]), 4);

        const seen: number[] = [];
        let resets = 0;
        const stop = store.watch(2, (b) => seen.push(b.rev), () => resets++);
        await waitFor(() => seen.length >= 3);
        await settle();
        assert.deepEqual(seen, [2, 3, 4]);
        assert.equal(resets, 0);
        stop();
      }));

    it('compaction keeps the current revision across a reopen', (t) =>
      withStore({ historyLimit: 0 }, async (h) => {
        if (!h.reopen) return t.skip('store does not persist');
        for (let i = 1; i <= 4; i++) await h.store.commit([ns(`n${i}`)]);
        const store = await h.reopen();
        assert.equal((await store.load()).rev, 4);
        assert.equal(await store.oldestRev(), 0);
        assert.equal(await store.commit([ns('n5')], { expectRev: 4 }), 5);
        assert.equal((await store.load()).items.length, 5);
      }));
  });
}

function put<K extends Kind>(kind: K, namespace: string, name: string, item: ItemOf[K]): Change {
  return { op: 'put', kind, namespace, name, item } as PutChange;
}

function del(kind: Kind, namespace: string, name: string): Change {
  return { op: 'delete', kind, namespace, name };
}

function ns(name: string): Change {
  return put('namespace', name, name, { name });
}

function service(namespace: string, name: string, extra: Partial<Service> = {}): Service {
  return {
    name,
    namespace,
    urls: ['http://localhost:8080'],
    retries: 3,
    retryTimeout: 0,
    connectTimeout: 0,
    requestTimeout: 0,
    tlsSkipVerify: false,
    http2Only: false,
    hideDGateHeaders: false,
    disableQueryParams: false,
    ...extra,
  };
}

function route(namespace: string, name: string, paths: string[]): ItemOf['route'] {
  return { name, namespace, paths, methods: ['GET'], preserveHost: false, stripPath: false };
}

function doc(namespace: string, collection: string, id: string, data: unknown): Document {
  const at = '2024-01-01T00:00:00.000Z';
  return { id, namespace, collection, data, createdAt: at, updatedAt: at };
}

function sorted(items: StoredItem[]): StoredItem[] {
  const key = (i: StoredItem) => `${i.kind}\0${i.namespace}\0${i.name}`;
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function names(snap: { items: StoredItem[] }): string[] {
  return sorted(snap.items).map((i) => `${i.kind}/${i.namespace}/${i.name}`);
}

function revsOf(batches: ChangeBatch[]): number[] {
  return batches.map((b) => b.rev);
}

/** Polls until `cond` holds: watch delivery may be asynchronous in some stores. */
async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Gives late (wrong) deliveries a chance to show up before asserting that nothing else came. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 30));
}

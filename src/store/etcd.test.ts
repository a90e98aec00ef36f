import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { startEtcdCluster, type EtcdCluster } from '../../test/support/etcd-cluster.js';
import type { Change, ChangeBatch } from '../core/change.js';
import { GatewayError } from '../core/errors.js';
import { createEtcdClient } from './etcd-client.js';
import { EtcdStore, type EtcdStoreOptions } from './etcd.js';
import { runStoreContract } from './store.contract.js';

/** One single-member cluster for the contract and most cases; started on first use. */
let shared: Promise<EtcdCluster> | null = null;
const clients: Etcd3[] = [];
function cluster(): Promise<EtcdCluster> {
  shared ??= startEtcdCluster({ size: 1 });
  return shared;
}
function client(c: EtcdCluster): Etcd3 {
  const e = createEtcdClient({ endpoints: c.endpoints });
  clients.push(e);
  return e;
}
after(async () => {
  for (const c of clients) c.close();
  await (await shared)?.close();
});

const freshPrefix = () => `/dgate-test/${randomUUID()}/`;

runStoreContract('etcd', async (opts = {}) => {
  const c = await cluster();
  const prefix = freshPrefix();
  const e = client(c);
  const make = () => new EtcdStore({ client: e, prefix, ...opts });
  let current = make();
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = make();
      return current;
    },
    cleanup: async () => {
      await current.close();
      await e.delete().prefix(prefix);
    },
  };
});

const ns = (name: string): Change => ({ op: 'put', kind: 'namespace', namespace: name, name, item: { name } });

/** A realistic route (~200 bytes of JSON). */
function route(i: number): Change {
  const name = `route-${String(i).padStart(5, '0')}`;
  return {
    op: 'put',
    kind: 'route',
    namespace: 'default',
    name,
    item: {
      name,
      namespace: 'default',
      paths: [`/api/v1/${name}/*`, `/api/v1/${name}`],
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      preserveHost: false,
      stripPath: true,
      service: 'backend-service',
      modules: ['auth-module'],
      tags: ['generated', `batch-${i % 10}`],
    },
  };
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

describe('EtcdStore', () => {
  async function open(opts: Partial<EtcdStoreOptions> = {}): Promise<{ prefix: string; e: Etcd3; make: (o?: Partial<EtcdStoreOptions>) => EtcdStore }> {
    const e = client(await cluster());
    const prefix = opts.prefix ?? freshPrefix();
    return { prefix, e, make: (o = {}) => new EtcdStore({ client: e, prefix, ...opts, ...o }) };
  }

  it('two nodes committing concurrently on one prefix get consecutive revisions and identical watch sequences', async () => {
    const { make, prefix } = await open();
    const a = make();
    // the second node has its own connection, as another gateway process would
    const b2 = new EtcdStore({ client: client(await cluster()), prefix });
    const seenA: ChangeBatch[] = [];
    const seenB: ChangeBatch[] = [];
    const stops = [a.watch(1, (x) => seenA.push(x), () => assert.fail('reset')), b2.watch(1, (x) => seenB.push(x), () => assert.fail('reset'))];
    const perNode = 25;
    const revs = await Promise.all([
      ...Array.from({ length: perNode }, (_, i) => a.commit([ns(`a${i}`)])),
      ...Array.from({ length: perNode }, (_, i) => b2.commit([ns(`b${i}`)])),
    ]);
    assert.deepEqual([...revs].sort((x, y) => x - y), Array.from({ length: 2 * perNode }, (_, i) => i + 1));
    await waitFor(() => seenA.length >= 2 * perNode && seenB.length >= 2 * perNode, 10_000, 'both watchers');
    assert.deepEqual(seenA.map((x) => x.rev), Array.from({ length: 2 * perNode }, (_, i) => i + 1));
    assert.deepEqual(seenB, seenA);
    const snap = await b2.load();
    assert.equal(snap.rev, 2 * perNode);
    assert.equal(snap.items.length, 2 * perNode, 'no batch lost');
    for (const s of stops) s();
    await a.close();
    await b2.close();
  });

  it('a batch of 10,000 routes commits atomically in chunks, loads back and reaches watchers whole', async () => {
    const { make, e, prefix } = await open();
    const store = make();
    await store.commit([ns('default')]);
    const seen: ChangeBatch[] = [];
    const stop = store.watch(2, (b) => seen.push(b), () => assert.fail('reset'));
    const changes = Array.from({ length: 10_000 }, (_, i) => route(i));
    const bytes = Buffer.byteLength(JSON.stringify(changes));
    assert.ok(bytes > 1.5 * 1024 * 1024, `the batch (${bytes} bytes) exceeds etcd's default request limit`);
    assert.equal(await store.commit(changes), 2);
    await waitFor(() => seen.length >= 1, 10_000, 'the large batch');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.rev, 2);
    assert.equal(seen[0]!.changes.length, 10_000);
    assert.deepEqual(seen[0]!.changes, changes);
    const other = make();
    const snap = await other.load();
    assert.equal(snap.rev, 2);
    assert.equal(snap.items.length, 10_001);
    assert.ok((await e.getAll().prefix(`${prefix}chunk/`).keys()).length >= 2, 'the batch was stored as chunks');
    stop();
    await store.close();
    await other.close();
  });

  it('a refused large commit leaves no chunks behind', async () => {
    const { make, e, prefix } = await open();
    const store = make();
    await store.commit([ns('a')]);
    const changes = Array.from({ length: 10_000 }, (_, i) => route(i));
    const err = await rejection(store.commit(changes, { expectRev: 0 }));
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, 'DG_ERR_REVISION_CONFLICT');
    assert.deepEqual(await e.getAll().prefix(`${prefix}chunk/`).keys(), []);
    assert.equal((await store.load()).items.length, 1);
    await store.close();
  });

  it('compaction writes a snapshot and deletes log entries and chunks older than the history', async () => {
    const { make, e, prefix } = await open({ historyLimit: 3, snapshotEvery: 4 });
    const store = make();
    await store.commit(Array.from({ length: 8_000 }, (_, i) => route(i))); // rev 1, chunked
    for (let i = 2; i <= 12; i++) await store.commit([ns(`n${i}`)]);
    await store.compactNow();
    const logKeys = (await e.getAll().prefix(`${prefix}log/`).keys()).map((k) => Number(k.slice(-16)));
    assert.deepEqual(logKeys, [10, 11, 12]);
    assert.deepEqual(await e.getAll().prefix(`${prefix}chunk/`).keys(), [], 'chunks of compacted batches are gone');
    const pointer = JSON.parse((await e.get(`${prefix}snapshot`).string())!) as { rev: number };
    assert.equal(pointer.rev, 12);
    const snapKeys = await e.getAll().prefix(`${prefix}snap/`).keys();
    assert.ok(snapKeys.length >= 1 && snapKeys.every((k) => k.startsWith(`${prefix}snap/${String(12).padStart(16, '0')}/`)), 'only the current snapshot is kept');
    const reopened = make();
    const snap = await reopened.load();
    assert.equal(snap.rev, 12);
    assert.equal(snap.items.length, 8_000 + 11);
    assert.equal(await reopened.oldestRev(), 10);
    assert.equal(await reopened.commit([ns('more')]), 13);
    assert.equal((await reopened.load()).items.length, 8_000 + 12);
    await store.close();
    await reopened.close();
  });

  it('two nodes compacting at once leave one consistent snapshot', async () => {
    const { make, e, prefix } = await open({ historyLimit: 2, snapshotEvery: 1000 });
    const a = make();
    const b = make();
    for (let i = 1; i <= 10; i++) await (i % 2 ? a : b).commit([ns(`n${i}`)]);
    await Promise.all([a.compactNow(), b.compactNow(), a.compactNow()]);
    const pointer = JSON.parse((await e.get(`${prefix}snapshot`).string())!) as { rev: number; id: string; count: number };
    assert.equal(pointer.rev, 10);
    const snapKeys = await e.getAll().prefix(`${prefix}snap/`).keys();
    assert.equal(snapKeys.length, pointer.count, 'chunks of the losing compactions were removed');
    assert.ok(snapKeys.every((k) => k.includes(pointer.id)));
    const fresh = make();
    assert.equal((await fresh.load()).items.length, 10);
    assert.equal(await fresh.oldestRev(), 9);
    for (const s of [a, b, fresh]) await s.close();
  });

  it('compaction happens by itself every snapshotEvery revisions', async () => {
    const { make, e, prefix } = await open({ historyLimit: 2, snapshotEvery: 5 });
    const store = make();
    for (let i = 1; i <= 12; i++) await store.commit([ns(`n${i}`)]);
    const deadline = Date.now() + 5000;
    let keys: string[] = [];
    while (Date.now() < deadline) {
      keys = await e.getAll().prefix(`${prefix}log/`).keys();
      if (keys.length <= 2 + 5) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(keys.length <= 7, `log holds ${keys.length} entries`);
    assert.equal((await make().load()).items.length, 12);
    await store.close();
  });

  it('a compaction that is due waits until the commits pause, or until the revisions since the snapshot reach the history', async () => {
    const { make, e, prefix } = await open({ historyLimit: 30, snapshotEvery: 5 });
    const store = make();
    const snapRev = async () => (JSON.parse((await e.get(`${prefix}snapshot`).string()) ?? 'null') as { rev: number } | null)?.rev ?? 0;
    const until = async (check: (rev: number) => boolean, what: string) => {
      const deadline = Date.now() + 10_000;
      for (let rev = await snapRev(); !check(rev); rev = await snapRev()) {
        if (Date.now() > deadline) assert.fail(`${what}: snapshot at ${rev}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    // a burst of 10 commits: a snapshot is due from revision 5 on
    const times: number[] = [];
    for (let i = 1; i <= 10; i++) {
      await store.commit([ns(`n${i}`)]);
      times.push(Date.now());
    }
    const during = await snapRev();
    // (only when no commit or read took 300 ms: a stalled machine makes a pause of its own)
    if (times.every((t, i) => i === 0 || t - times[i - 1]! < 250) && Date.now() - times[9]! < 250) assert.equal(during, 0, 'no snapshot while the commits keep coming');
    else console.log('commits too slow here to check that no snapshot was written during the burst');
    await until((rev) => rev === 10, 'the snapshot once the commits pause');
    // commits that do not pause: compacted when the revisions since the snapshot reach the history (30)
    let rev = 10;
    while ((await snapRev()) < 40 && rev < 200) rev = await store.commit([ns(`m${rev}`)]);
    assert.ok(rev < 200, 'no snapshot after 190 commits in a row');
    assert.ok((await snapRev()) >= 40);
    assert.equal((await make().load()).items.length, rev);
    await store.close();
  });

  it('a large state is snapshotted again only once the revisions since reach a tenth of its items', async () => {
    const { make, e, prefix } = await open({ historyLimit: 10, snapshotEvery: 2 });
    const pointer = async () => JSON.parse((await e.get(`${prefix}snapshot`).string()) ?? 'null') as { rev: number; items?: number } | null;
    let store = make();
    await store.commit(Array.from({ length: 100 }, (_, i) => route(i)));
    await store.compactNow();
    assert.deepEqual(await pointer().then((p) => [p?.rev, p?.items]), [1, 100]);
    // 9 revisions after a snapshot of 100 items: below 100 / 10, no snapshot (2 would do for a small state)
    for (let i = 1; i <= 9; i++) await store.commit([ns(`n${i}`)]);
    await store.close(); // waits for a compaction under way
    assert.equal((await pointer())?.rev, 1);
    assert.equal((await e.getAll().prefix(`${prefix}log/`).keys()).length, 10);
    // the 10th: a node that never saw the snapshot reads its size from the pointer and compacts
    store = make();
    await store.commit([ns('n10')]);
    await store.close();
    assert.deepEqual(await pointer().then((p) => [p?.rev, p?.items]), [11, 110]);
    // the last 10 revisions (storage.history) are kept
    const log = await e.getAll().prefix(`${prefix}log/`).keys();
    assert.deepEqual([log.length, log[0]], [10, `${prefix}log/${String(2).padStart(16, '0')}`]);
    assert.equal((await make().load()).items.length, 110);
  });

  it('a large state is still snapshotted every storage.history revisions', async () => {
    const { make, e, prefix } = await open({ historyLimit: 4, snapshotEvery: 2 });
    const store = make();
    await store.commit(Array.from({ length: 100 }, (_, i) => route(i)));
    await store.compactNow();
    for (let i = 1; i <= 4; i++) await store.commit([ns(`n${i}`)]);
    await store.close(); // waits for a compaction under way
    assert.equal(JSON.parse((await e.get(`${prefix}snapshot`).string()) ?? 'null')?.rev, 5);
  });

  it('a watcher following from a revision older than the compacted history gets onReset', async () => {
    const { make } = await open({ historyLimit: 2, snapshotEvery: 3 });
    const store = make();
    for (let i = 1; i <= 9; i++) await store.commit([ns(`n${i}`)]);
    await store.compactNow();
    let resets = 0;
    const seen: number[] = [];
    store.watch(3, (b) => seen.push(b.rev), () => resets++);
    await waitFor(() => resets === 1, 5000, 'onReset');
    await store.commit([ns('n10')]);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, []);
    assert.equal(resets, 1);
    await store.close();
  });

  it("etcd's own compaction neither crashes a watcher nor loses batches", async () => {
    const { make, e } = await open();
    const store = make();
    for (let i = 1; i <= 5; i++) await store.commit([ns(`n${i}`)]);
    const seen: number[] = [];
    let resets = 0;
    const stop = store.watch(1, (b) => seen.push(b.rev), () => resets++);
    await waitFor(() => seen.length === 5, 5000, 'replay');
    // compact etcd up to its newest revision: every revision the watch could resume from is gone
    const head = Number((await e.kv.range({ key: Buffer.from('x') })).header.revision);
    for (let i = 6; i <= 8; i++) await store.commit([ns(`n${i}`)]);
    await e.kv.compact({ revision: head + 3, physical: true });
    for (let i = 9; i <= 10; i++) await store.commit([ns(`n${i}`)]);
    // a new watcher starting now replays from our log, whatever etcd compacted
    const late: number[] = [];
    const stopLate = store.watch(1, (b) => late.push(b.rev), () => resets++);
    await waitFor(() => seen.length === 10 && late.length === 10, 5000, 'both watchers');
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(late, seen);
    assert.equal(resets, 0);
    stop();
    stopLate();
    await store.close();
  });
});

describe('EtcdStore with etcd members failing', () => {
  let c: EtcdCluster;
  const own: Etcd3[] = [];
  const mk = (endpoints: string[]) => {
    const e = createEtcdClient({ endpoints });
    own.push(e);
    return e;
  };
  after(async () => {
    for (const e of own) e.close();
    await c?.close();
  });

  async function leaderIndex(): Promise<number> {
    for (let i = 0; i < c.members.length; i++) {
      if (c.members[i]!.child === null) continue;
      const e = createEtcdClient({ endpoints: [c.members[i]!.clientUrl] });
      try {
        const s = await e.maintenance.status();
        if (s.leader === s.header.member_id) return i;
      } catch {
        // member not answering: not the leader
      } finally {
        e.close();
      }
    }
    throw new Error('no leader found');
  }

  it('starts a 3-member cluster', async () => {
    c = await startEtcdCluster({ size: 3 });
  });

  it('a watch through one member resumes after that member was down while etcd compacted past it', async () => {
    const prefix = freshPrefix();
    const viaM0 = new EtcdStore({ client: mk([c.members[0]!.clientUrl]), prefix });
    const viaOthers = new EtcdStore({ client: mk([c.members[1]!.clientUrl, c.members[2]!.clientUrl]), prefix });
    await viaOthers.commit([ns('a')]);
    const seen: number[] = [];
    let resets = 0;
    const stop = viaM0.watch(1, (b) => seen.push(b.rev), () => resets++);
    await waitFor(() => seen.length === 1, 5000, 'first batch');
    await c.stop(0);
    for (let i = 2; i <= 4; i++) await viaOthers.commit([ns(`n${i}`)]);
    const e = mk([c.members[1]!.clientUrl]);
    const head = Number((await e.kv.range({ key: Buffer.from('x') })).header.revision);
    await e.kv.compact({ revision: head, physical: true });
    await c.start(0);
    await viaOthers.commit([ns('n5')]);
    await waitFor(() => seen.length === 5, 15_000, 'the batches committed while the member was down');
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.equal(resets, 0);
    stop();
    await viaM0.close();
    await viaOthers.close();
  });

  it('a watcher cut off while compaction removed the revisions it still needed gets onReset, not a crash', async () => {
    const prefix = freshPrefix();
    const viaM0 = new EtcdStore({ client: mk([c.members[0]!.clientUrl]), prefix, historyLimit: 2 });
    const viaOthers = new EtcdStore({ client: mk([c.members[1]!.clientUrl, c.members[2]!.clientUrl]), prefix, historyLimit: 2 });
    await viaOthers.commit([ns('a')]);
    const seen: number[] = [];
    let resets = 0;
    viaM0.watch(1, (b) => seen.push(b.rev), () => resets++);
    await waitFor(() => seen.length === 1, 5000, 'first batch');
    await c.stop(0);
    for (let i = 2; i <= 8; i++) await viaOthers.commit([ns(`n${i}`)]);
    await viaOthers.compactNow();
    await c.start(0);
    await viaOthers.commit([ns('n9')]);
    // Either the watch's replayed events bring every batch in order (etcd kept them, though the
    // log entries are gone), or the watcher reads the log, finds the gap and gets onReset (after
    // the batches the events already carried, if any): never a batch past a gap. Which one comes first depends on the runtime's timing.
    await waitFor(() => resets === 1 || seen.length === 9, 15_000, 'onReset or every batch');
    // consecutive from 1: batches before a reset are the ones the events carried, none past a gap
    assert.deepEqual(seen, Array.from({ length: seen.length }, (_, i) => i + 1), 'batches in order, none past a gap');
    if (resets === 0) assert.equal(seen.length, 9, 'every batch');
    await viaM0.close();
    await viaOthers.close();
  });

  it('with a leader killed, the next commit goes through', async (t) => {
    const store = new EtcdStore({ client: mk(c.endpoints), prefix: freshPrefix() });
    await store.commit([ns('a')]);
    const leader = await leaderIndex();
    await c.stop(leader);
    const started = Date.now();
    // the first attempt may meet the election (a 503 within the request deadline); a writer retries
    let rev = 0;
    let attempts = 0;
    while (rev === 0) {
      attempts++;
      try {
        rev = await store.commit([ns('b')]);
      } catch (err) {
        assert.ok(err instanceof GatewayError && err.code === 'DG_ERR_STORE_UNAVAILABLE', String(err));
        if (Date.now() - started > 15_000) throw err;
      }
    }
    t.diagnostic(`commit after killing the leader: ${Date.now() - started} ms, ${attempts} attempt(s)`);
    assert.equal(rev, 2);
    await c.start(leader);
    await store.close();
  });

  it('quorum lost: commit fails with STORE_UNAVAILABLE within the request deadline; quorum back: commit succeeds', async (t) => {
    const store = new EtcdStore({ client: mk(c.endpoints), prefix: freshPrefix() });
    await store.commit([ns('a')]);
    await c.stop(1);
    await c.stop(2);
    const started = Date.now();
    const err = await rejection(store.commit([ns('b')]));
    const took = Date.now() - started;
    t.diagnostic(`commit with quorum lost failed after ${took} ms`);
    assert.ok(err instanceof GatewayError && err.code === 'DG_ERR_STORE_UNAVAILABLE', String(err));
    assert.ok(took < 5000, `took ${took} ms`);
    await c.startAll();
    const back = Date.now();
    let rev = 0;
    while (rev === 0) {
      try {
        rev = await store.commit([ns('c')]);
      } catch (e) {
        if (Date.now() - back > 15_000) throw e;
      }
    }
    assert.equal(rev, 2, 'the refused commit did not happen');
    await store.close();
  });

  it('all members down: commit fails with STORE_UNAVAILABLE within the deadline; back up: commit succeeds and the watch delivers it', async (t) => {
    const prefix = freshPrefix();
    const store = new EtcdStore({ client: mk(c.endpoints), prefix });
    await store.commit([ns('a')]);
    const seen: number[] = [];
    let resets = 0;
    const stop = store.watch(1, (b) => seen.push(b.rev), () => resets++);
    await waitFor(() => seen.length === 1, 5000, 'first batch');
    await c.stopAll();

    const started = Date.now();
    const err = await rejection(store.commit([ns('b')]));
    const took = Date.now() - started;
    t.diagnostic(`commit with every etcd member down failed after ${took} ms`);
    assert.ok(err instanceof GatewayError, String(err));
    assert.equal(err.code, 'DG_ERR_STORE_UNAVAILABLE');
    assert.equal(err.status, 503);
    assert.match(err.message, /etcd is unreachable/);
    assert.ok(took < 5000, `took ${took} ms`);
    const loadErr = await rejection(store.load());
    assert.ok(loadErr instanceof GatewayError && loadErr.code === 'DG_ERR_STORE_UNAVAILABLE', String(loadErr));

    await c.startAll();
    const back = Date.now();
    let rev = 0;
    while (rev === 0) {
      try {
        rev = await store.commit([ns('c')]);
      } catch (e) {
        // the cluster may still be electing a leader right after start
        if (Date.now() - back > 15_000) throw e;
      }
    }
    t.diagnostic(`first successful commit ${Date.now() - back} ms after etcd was healthy again`);
    assert.equal(rev, 2);
    await waitFor(() => seen.length === 2, 15_000, 'the watch to deliver the batch committed after the outage');
    assert.deepEqual(seen, [1, 2]);
    assert.equal(resets, 0);
    stop();
    await store.close();
  });
});

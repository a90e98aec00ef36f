import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { startEtcdCluster, type EtcdCluster } from '../../test/support/etcd-cluster.js';
import { startTcpRelay } from '../../test/support/tcp-relay.js';
import { EtcdMembership, type EtcdMembershipOptions } from './etcd.js';
import type { NodeInfo } from './membership.js';

const PREFIX = '/dgate-test/';

/**
 * Polls `list()` until `check` holds; fails with the last list (or the last error) after
 * `timeoutMs`. A list that fails on the way (etcd slow to answer on a busy machine) is read again.
 */
async function until(read: () => Promise<NodeInfo[]>, check: (nodes: NodeInfo[]) => boolean, what: string, timeoutMs = 15_000): Promise<NodeInfo[]> {
  const deadline = Date.now() + timeoutMs;
  let last: NodeInfo[] | Error = [];
  for (;;) {
    last = await read().catch((err: Error) => err);
    if (!(last instanceof Error) && check(last)) return last;
    if (Date.now() > deadline) assert.fail(`${what}: not seen after ${timeoutMs} ms; last list: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ids = (nodes: NodeInfo[]) => nodes.map((n) => n.id);

describe('etcd membership (real etcd)', () => {
  let etcd: EtcdCluster;
  let client: Etcd3;
  const clients: Etcd3[] = [];

  before(async () => {
    etcd = await startEtcdCluster({ size: 1 });
    client = new Etcd3({ hosts: etcd.endpoints });
  });
  after(async () => {
    for (const c of clients) c.close();
    client.close();
    await etcd.close();
  });

  /** One "node": its own etcd client, as each gateway process has. */
  function join(id: string, extra: Partial<EtcdMembershipOptions> = {}, hosts: string[] = etcd.endpoints) {
    const c = new Etcd3({ hosts });
    clients.push(c);
    return EtcdMembership.join({
      client: c,
      prefix: PREFIX,
      identity: { id, address: `http://127.0.0.1:90${id.slice(-1)}0`, tags: [`zone-${id}`], version: 'test', watchOnly: id === 'c' },
      initialRev: 5,
      ...extra,
    });
  }

  it('three nodes see each other, with their revision, tags and address; a report reaches every list', async () => {
    const [a, b, c] = await Promise.all([join('a'), join('b'), join('c')]);
    try {
      for (const m of [a, b, c]) {
        const nodes = await m.list();
        assert.deepEqual(ids(nodes), ['a', 'b', 'c'], 'sorted by id');
        assert.deepEqual(nodes.map((n) => n.rev), [5, 5, 5]);
        assert.deepEqual(nodes[1]!.tags, ['zone-b']);
        assert.equal(nodes[1]!.address, 'http://127.0.0.1:90b0');
        assert.equal(nodes[2]!.watchOnly, true);
        assert.ok(nodes.every((n) => n.status === 'ok' && n.error === null && !Number.isNaN(Date.parse(n.lastSeen))));
        assert.ok(!('incarnation' in nodes[0]!), 'internal fields are not listed');
      }

      // A burst of reports: the last one always lands.
      for (let rev = 6; rev <= 300; rev++) b.report({ rev });
      const started = Date.now();
      const seen = await until(() => a.list(), (n) => n.find((x) => x.id === 'b')?.rev === 300, 'b at rev 300');
      const elapsed = Date.now() - started;
      assert.deepEqual(seen.map((n) => [n.id, n.status]), [['a', 'behind'], ['b', 'ok'], ['c', 'behind']]);
      assert.equal(b.self().rev, 300);
      console.log(`report of rev 300 listed by another node after ${elapsed} ms`);

      // An apply error is listed, and cleared by the next good batch.
      c.report({ rev: 300, error: 'route r: bad pattern' });
      const degraded = await until(() => a.list(), (n) => n.find((x) => x.id === 'c')?.error !== null, 'c degraded');
      assert.equal(degraded.find((x) => x.id === 'c')!.status, 'degraded');
      assert.equal(degraded.find((x) => x.id === 'c')!.error, 'route r: bad pattern');
      c.report({ rev: 301, error: null });
      await until(() => a.list(), (n) => n.find((x) => x.id === 'c')?.status === 'ok' && n.find((x) => x.id === 'c')?.rev === 301, 'c ok again');

      // A closed node leaves at once (its lease is revoked).
      await c.close();
      assert.deepEqual(ids(await a.list()), ['a', 'b']);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
    assert.deepEqual(await client.getAll().prefix(`${PREFIX}nodes/`).keys(), [], 'no entries left');
  });

  it('a steady stream of reports makes few writes of the node entry; the last report lands once the stream pauses', async () => {
    const m = await join('stream6');
    const watcher = await client.watch().key(`${PREFIX}nodes/stream6`).create();
    const written: number[] = [];
    watcher.on('put', (kv) => written.push(JSON.parse(kv.value.toString()).rev as number));
    try {
      // a node applying a revision every ~10 ms for 1.5 s
      const times: number[] = [];
      const started = Date.now();
      let rev = 5;
      while (Date.now() - started < 1500) {
        m.report({ rev: ++rev });
        times.push(Date.now());
        await new Promise((r) => setTimeout(r, 10));
      }
      const last = rev;
      const ended = Date.now();
      await until(() => m.list(), (n) => n[0]?.rev === last, `stream6 at rev ${last}`);
      console.log(`${times.length} reports, ${written.length} entry writes; the last listed ${Date.now() - ended} ms after it`);
      // A write is due once a second during the stream, and where the stream paused (a loaded
      // machine delays the test's timers; at most two writes per pause: the pending report, then
      // the next one); the first and the last, and a heartbeat, come on top. Every 50 ms, as
      // before, would be ~30.
      const pauses = times.slice(1).filter((t, i) => t - times[i]! >= 40).length;
      // the watch delivers the last write after list() could read it
      const deadline = Date.now() + 5000;
      while (written.at(-1) !== last && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(written.at(-1), last, `the watch saw writes up to rev ${written.at(-1)}`);
      assert.ok(written.length <= 5 + 2 * pauses, `${written.length} writes for ${times.length} reports with ${pauses} pauses`);
    } finally {
      await watcher.cancel();
      await m.close();
    }
  });

  it('a second live node with the same id is refused, naming the id and the other address', async () => {
    const first = await join('dup1', { ttlSeconds: 1 });
    try {
      await assert.rejects(
        join('dup1', { ttlSeconds: 1 }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'DG_ERR_CONFIG');
          assert.match(err.message, /node_id: "dup1" is already used by a live node at http:\/\/127\.0\.0\.1:9010; give every node its own node_id/);
          return true;
        },
      );
      assert.deepEqual(ids(await first.list()), ['dup1'], 'the first node stays listed, once');
    } finally {
      await first.close();
    }
  });

  it('a node whose predecessor with the same id crashed joins once the old lease expires', async () => {
    // The "crashed" node: an entry under a lease nobody keeps alive.
    const lease = client.lease(1, { autoKeepAlive: false });
    await lease.put(`${PREFIX}nodes/crashed2`).value(JSON.stringify({ id: 'crashed2', rev: 1, address: 'http://old', incarnation: 'old' }));
    const m = await join('crashed2', { ttlSeconds: 2 });
    try {
      const nodes = await m.list();
      assert.deepEqual(ids(nodes), ['crashed2']);
      assert.equal(nodes[0]!.address, 'http://127.0.0.1:9020');
    } finally {
      await m.close();
    }
  });

  it('list() fails with DG_ERR_CLUSTER_UNAVAILABLE when etcd cannot be reached; close() still returns', async () => {
    const url = new URL(etcd.endpoints[0]!);
    const relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) });
    // its own prefix: once cut off, its entry may outlive close() by one TTL
    const m = await join('unreach5', { prefix: '/dgate-test-unreachable/', ttlSeconds: 1 }, [`http://${relay.address}`]);
    try {
      relay.cut();
      const started = Date.now();
      await assert.rejects(m.list(), (err: Error & { code?: string; status?: number }) => {
        assert.equal(err.code, 'DG_ERR_CLUSTER_UNAVAILABLE');
        assert.equal(err.status, 503);
        assert.match(err.message, /^cluster view unavailable: etcd: /);
        return true;
      });
      console.log(`list() without etcd failed after ${Date.now() - started} ms`);
      m.report({ rev: 99 });
      await m.close();
    } finally {
      relay.restore();
      await m.close();
      await relay.close();
    }
  });

  it('a node cut off from etcd disappears when its lease expires, and registers again when etcd is back', async () => {
    const url = new URL(etcd.endpoints[0]!);
    const relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) });
    const observer = await join('observer3');
    const cutOff = await join('node3', { ttlSeconds: 2, initialRev: 7 }, [`http://${relay.address}`]);
    try {
      assert.deepEqual(ids(await observer.list()), ['node3', 'observer3']);
      relay.cut();
      await until(() => observer.list(), (n) => !ids(n).includes('node3'), 'node3 gone after its lease expired', 20_000);
      cutOff.report({ rev: 9 });
      relay.restore();
      const back = await until(() => observer.list(), (n) => n.find((x) => x.id === 'node3')?.rev === 9, 'node3 back with rev 9', 30_000);
      assert.deepEqual(ids(back), ['node3', 'observer3']);
    } finally {
      await cutOff.close();
      await observer.close();
      await relay.close();
    }
  });
});

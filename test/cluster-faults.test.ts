/**
 * etcd faults under a cluster of real dgate-server nodes, each produced by stopping real etcd
 * processes (or pausing a node with SIGSTOP): the proxy never fails a request, admin writes fail
 * fast with a 503 while etcd is unreachable, a node can boot from its local snapshot during the
 * outage, and every node catches up without a restart when etcd returns or after compaction.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEtcdCluster, type EtcdCluster } from './support/etcd-cluster.js';
import {
  admin,
  etcdctl,
  eventually,
  freshPrefix,
  proxyGet,
  put,
  revOf,
  startNode,
  startUpstream,
  stopNode,
  type ClusterNode,
  type NodeSpec,
} from './support/cluster-nodes.js';

const HOST = 'app.test';

let etcd: EtcdCluster;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
const started: ClusterNode[] = [];

async function node(spec: Omit<NodeSpec, 'endpoints'>): Promise<ClusterNode> {
  const n = await startNode({ ...spec, endpoints: etcd.endpoints });
  started.push(n);
  return n;
}

async function three(prefix: string, extra: Partial<NodeSpec> = {}): Promise<ClusterNode[]> {
  return Promise.all(['n1', 'n2', 'n3'].map((id) => node({ id, prefix, ...extra })));
}

async function setUp(via: ClusterNode, all: ClusterNode[]): Promise<void> {
  await put(via, 'namespace', { name: 'app' });
  await put(via, 'domain', { name: 'app', namespace: 'app', patterns: [HOST] });
  await put(via, 'service', { name: 'up', namespace: 'app', urls: [upstream.url] });
  await put(via, 'route', { name: 'svc', namespace: 'app', paths: ['/svc/*'], methods: ['GET'], service: 'up', stripPath: true });
  for (const n of all) await eventually(`${n.id} serves /svc/`, async () => (await proxyGet(n, '/svc/x', HOST)).status === 200);
}

/** Clients looping over every node's proxy until stopped; counts answers that are not 200 "up …". */
function load(targets: ClusterNode[], clients = 3) {
  let stopped = false;
  const result = { ok: 0, failed: 0, errors: [] as string[] };
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; !stopped; i++) {
      const n = targets[(i + c) % targets.length];
      try {
        const res = await proxyGet(n, `/svc/${c}-${i}`, HOST);
        if (res.status === 200 && res.text === `up /${c}-${i}`) result.ok++;
        else {
          result.failed++;
          if (result.errors.length < 5) result.errors.push(`${n.id}: ${res.status} ${res.text.slice(0, 100)}`);
        }
      } catch (err) {
        result.failed++;
        if (result.errors.length < 5) result.errors.push(`${n.id}: ${String(err)}`);
      }
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return result;
    },
  };
}

async function readyz(n: ClusterNode): Promise<{ status: number; body: any }> {
  return admin(n, 'GET', '/readyz');
}

/** The client URL of etcd's current leader. */
async function leaderIndex(): Promise<number> {
  const status = JSON.parse(await etcdctl(etcd.endpoints, 'endpoint', 'status', '-w', 'json')) as Array<{ Endpoint: string; Status: { leader: number | string; header: { member_id: number | string } } }>;
  const leader = status.find((s) => String(s.Status.header.member_id) === String(s.Status.leader));
  assert.ok(leader, 'etcd has a leader');
  return etcd.endpoints.indexOf(leader!.Endpoint);
}

async function etcdRevision(): Promise<number> {
  const status = JSON.parse(await etcdctl(etcd.endpoints, 'endpoint', 'status', '-w', 'json')) as Array<{ Status: { header: { revision: number } } }>;
  return Math.max(...status.map((s) => Number(s.Status.header.revision)));
}

before(async () => {
  etcd = await startEtcdCluster({ size: 3 });
  upstream = await startUpstream('up');
});

after(async () => {
  await Promise.all(started.map((n) => stopNode(n, 'SIGKILL')));
  await upstream?.close();
  await etcd?.close();
});

describe('cluster faults', () => {
  it('one etcd member of three down (the leader): writes and proxied requests go on', async () => {
    const all = await three(freshPrefix('member'));
    await setUp(all[0], all);
    const traffic = load(all);
    const leader = await leaderIndex();
    await etcd.stop(leader);
    try {
      for (const [i, n] of all.entries()) {
        const t0 = Date.now();
        await put(n, 'service', { name: `after-${i}`, namespace: 'app', urls: [upstream.url] });
        assert.ok(Date.now() - t0 < 10_000, 'a write goes through while a new leader is elected');
      }
      const head = Math.max(...(await Promise.all(all.map(revOf))));
      await eventually('every node at the same revision', async () => (await Promise.all(all.map(revOf))).every((r) => r === head));
    } finally {
      await etcd.start(leader);
    }
    const result = await traffic.stop();
    assert.equal(result.failed, 0, `failed proxied requests: ${result.errors.join('; ')}`);
    assert.ok(result.ok > 0);
  });

  it('all of etcd down under load: 0 failed requests, writes 503 fast, readyz degraded, catch-up when it returns', async () => {
    const all = await three(freshPrefix('outage'));
    await setUp(all[0], all);
    const traffic = load(all);
    await etcd.stopAll();
    try {
      const t0 = Date.now();
      const refused = await admin(all[1], 'PUT', '/api/v1/service', { name: 'during', namespace: 'app', urls: [upstream.url] });
      const took = Date.now() - t0;
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.match(refused.body.error, /etcd/i);
      assert.match(refused.body.error, /unreachable/i);
      assert.ok(took < 4000, `write refused after ${took} ms`);
      for (const n of all) {
        await eventually(`${n.id} reports degraded`, async () => (await readyz(n)).body?.status === 'degraded');
      }
      // nothing was written
      assert.equal((await admin(all[1], 'GET', '/api/v1/service/during?namespace=app')).status, 404);
    } finally {
      await etcd.startAll();
    }
    // the first write after etcd returns may race its election: retry until it goes through
    await eventually('a write succeeds once etcd is back', async () => (await admin(all[1], 'PUT', '/api/v1/service', { name: 'back', namespace: 'app', urls: [upstream.url] })).status === 201, 20_000);
    await put(all[1], 'route', { name: 'back', namespace: 'app', paths: ['/back/*'], methods: ['GET'], service: 'back', stripPath: true });
    for (const n of all) {
      await eventually(`${n.id} serves the change made after the outage`, async () => (await proxyGet(n, '/back/z', HOST)).text === 'up /z', 15_000);
      await eventually(`${n.id} ready again`, async () => (await readyz(n)).body?.status === 'ok', 15_000);
    }
    const result = await traffic.stop();
    assert.equal(result.failed, 0, `failed proxied requests: ${result.errors.join('; ')}`);
    assert.ok(result.ok > 0);
  });

  it('a node started while etcd is down boots from its local snapshot, then catches up', async () => {
    const all = await three(freshPrefix('cold'));
    await setUp(all[0], all);
    const n3 = all[2];
    await stopNode(n3);
    await etcd.stopAll();
    let again: ClusterNode;
    try {
      again = await node({ id: 'n3', prefix: n3.spec.prefix, dir: n3.spec.dir });
      assert.deepEqual(await proxyGet(again, '/svc/cold', HOST), { status: 200, text: 'up /cold' });
      assert.equal((await readyz(again)).body.status, 'degraded');
    } finally {
      await etcd.startAll();
    }
    await eventually('a write succeeds once etcd is back', async () => (await admin(all[0], 'PUT', '/api/v1/route', { name: 'later', namespace: 'app', paths: ['/later/*'], methods: ['GET'], service: 'up', stripPath: true })).status === 201, 20_000);
    await eventually('the restarted node serves the later change', async () => (await proxyGet(again!, '/later/q', HOST)).text === 'up /q', 15_000);
  });

  it('compaction: a paused node and a stopped node both reload and serve the latest state', async () => {
    const all = await three(freshPrefix('compact'), { storageExtra: '  history: 5' });
    await setUp(all[0], all);
    const [n1, n2, n3] = all;
    await stopNode(n2);
    n3.child.kill('SIGSTOP');
    try {
      for (let i = 0; i < 20; i++) await put(n1, 'service', { name: `c${i}`, namespace: 'app', urls: [upstream.url] });
      await etcdctl(etcd.endpoints, 'compact', String(await etcdRevision()));
    } finally {
      n3.child.kill('SIGCONT');
    }
    const head = await revOf(n1);
    await eventually('the paused node catches up past the compaction', async () => (await revOf(n3)) === head, 15_000);
    assert.equal((await admin(n3, 'GET', '/api/v1/service?namespace=app')).body.count, 21);
    assert.equal(n3.child.exitCode, null, 'the paused node did not crash');

    const back = await node({ id: 'n2', prefix: n2.spec.prefix, dir: n2.spec.dir });
    await eventually('the restarted node reaches the head', async () => (await revOf(back)) === head, 15_000);
    assert.equal((await admin(back, 'GET', '/api/v1/service?namespace=app')).body.count, 21);
  });

  it('a node joining late serves everything and appears in the cluster list', async () => {
    const prefix = freshPrefix('late');
    const all = await three(prefix);
    await setUp(all[0], all);
    for (let i = 0; i < 5; i++) await put(all[i % 3], 'service', { name: `l${i}`, namespace: 'app', urls: [upstream.url] });
    const late = await node({ id: 'n4', prefix });
    assert.deepEqual(await proxyGet(late, '/svc/late', HOST), { status: 200, text: 'up /late' });
    assert.equal((await admin(late, 'GET', '/api/v1/service?namespace=app')).body.count, 6);
    await eventually('n1 lists n4', async () => (await admin(all[0], 'GET', '/api/v1/cluster')).body.data.some((x: { id: string }) => x.id === 'n4'));
  });

  it('a watch_only node serves traffic and reads, and refuses writes naming the setting', async () => {
    const prefix = freshPrefix('watch');
    const [n1] = await Promise.all([node({ id: 'n1', prefix })]);
    const watcher = await node({ id: 'w1', prefix, adminExtra: '  watch_only: true' });
    await setUp(n1, [n1, watcher]);
    const refused = await admin(watcher, 'PUT', '/api/v1/namespace', { name: 'nope' });
    assert.ok(refused.status >= 400 && refused.status < 500, `status ${refused.status}`);
    assert.match(refused.body.error, /watch_only/);
    assert.equal((await admin(watcher, 'GET', '/api/v1/route/svc?namespace=app')).status, 200);
    assert.equal((await admin(n1, 'GET', '/api/v1/namespace/nope')).status, 404);
  });
});

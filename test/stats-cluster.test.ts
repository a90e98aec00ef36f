/**
 * GET /api/v1/stats across a cluster: real dgate-server nodes on a real etcd, with basic auth
 * on the admin API. The node asked adds up every live node's stats (asked over their admin
 * addresses with the caller's credentials) and says which nodes answered; a node that is listed
 * but gone is named as not answering, and the rest still comes back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEtcdCluster, type EtcdCluster } from './support/etcd-cluster.js';
import { eventually, freshPrefix, proxyGet, startNode, startUpstream, stopNode, type ClusterNode } from './support/cluster-nodes.js';
import { request } from './support/http.js';

const HOST = 'app.test';
const AUTH = `Basic ${Buffer.from('ops:pw').toString('base64')}`;
const ADMIN_AUTH = `  auth_method: basic\n  basic_auth: { users: [{ username: ops, password: pw }] }`;

async function call(node: ClusterNode, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await request(node.adminUrl + path, {
    method,
    headers: { authorization: AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text === '' ? null : JSON.parse(text) };
}

describe('cluster stats', () => {
  let etcd: EtcdCluster;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let n1: ClusterNode;
  let n2: ClusterNode;

  before(async () => {
    etcd = await startEtcdCluster({ size: 1 });
    upstream = await startUpstream('up');
    const prefix = freshPrefix('stats');
    // /readyz is behind the admin API's auth too: started without the helper's wait, then asked with credentials
    n1 = await startNode({ id: 'n1', endpoints: etcd.endpoints, prefix, adminExtra: ADMIN_AUTH, waitReady: false });
    n2 = await startNode({ id: 'n2', endpoints: etcd.endpoints, prefix, adminExtra: ADMIN_AUTH, workers: 2, waitReady: false });
    for (const n of [n1, n2]) await eventually(`${n.id} ready`, async () => (await call(n, 'GET', '/readyz')).status === 200, 30_000);
    assert.equal((await call(n1, 'PUT', '/api/v1/domain', { name: 'app', patterns: [HOST] })).status, 201);
    assert.equal((await call(n1, 'PUT', '/api/v1/service', { name: 'up', urls: [upstream.url] })).status, 201);
    const put = await call(n1, 'PUT', '/api/v1/route', { name: 'r', paths: ['/r'], methods: ['GET'], service: 'up' });
    assert.equal(put.status, 201);
    const rev = Number((await call(n1, 'GET', '/changelog')).body.rev);
    await eventually('n2 serves the route', async () => Number((await call(n2, 'GET', '/changelog')).body.rev) >= rev);
    for (let i = 0; i < 4; i++) assert.equal((await proxyGet(n1, '/r', HOST)).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await proxyGet(n2, '/r', HOST)).status, 200);
    await eventually('both nodes listed', async () => (await call(n1, 'GET', '/api/v1/cluster')).body.count === 2);
  });

  after(async () => {
    for (const n of [n1, n2]) if (n !== undefined) await stopNode(n);
    await upstream?.close();
    await etcd?.stopAll();
  });

  it('adds up every node, naming the nodes that answered', async () => {
    let body: any;
    await eventually('7 requests over both nodes', async () => {
      const r = await call(n1, 'GET', '/api/v1/stats?route=r');
      body = r.body;
      return r.status === 200 && body.total['1m'].requests === 7;
    });
    assert.equal(body.scope, 'cluster');
    assert.deepEqual(
      body.nodes.map((n: any) => [n.id, n.answered, n.error]),
      [
        ['n1', true, null],
        ['n2', true, null],
      ],
    );
    assert.deepEqual(body.routes.map((x: any) => [x.namespace, x.route, x.service, x.windows['1m'].requests]), [['default', 'r', 'up', 7]]);
    // each node alone
    assert.equal((await call(n1, 'GET', '/api/v1/stats?route=r&scope=node')).body.total['1m'].requests, 4);
    assert.equal((await call(n2, 'GET', '/api/v1/stats?route=r&scope=node')).body.total['1m'].requests, 3);
    // the credentials are needed, and passed on
    const anonymous = await request(`${n1.adminUrl}/api/v1/stats`);
    await anonymous.body.dump();
    assert.equal(anonymous.statusCode, 401);
  });

  it('names a listed node that does not answer, and gives the others', async () => {
    await stopNode(n2, 'SIGKILL'); // its lease keeps it listed for a while
    const started = Date.now();
    const r = await call(n1, 'GET', '/api/v1/stats?route=r');
    assert.equal(r.status, 200);
    assert.ok(Date.now() - started < 5000, 'a short deadline');
    // still listed: its lease (10 s) has not expired
    const gone = r.body.nodes.find((n: any) => n.id === 'n2');
    assert.ok(gone !== undefined, JSON.stringify(r.body.nodes));
    assert.equal(gone.answered, false);
    assert.match(gone.error, /ECONNREFUSED|fetch failed|no answer/);
    assert.equal(r.body.total['1m'].requests, 4);
  });
});

/**
 * Cluster settings through the real binary: DGate's Raft replication is refused with how to
 * cluster instead; a watch_only node with tags starts, shows itself in the cluster view and
 * refuses admin writes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { request } from './support/http.js';
import { startEtcdCluster } from './support/etcd-cluster.js';
import { putJson, startServerProcess, stop, type ServerProcess } from './support/server-process.js';
import { until } from './support/until.js';

/** The admin port a server bound (admin.port: 0), from its `dgate ready` log line. */
async function boundAdminPort(server: ServerProcess): Promise<number> {
  let port = 0;
  await until(async () => {
    const ready = server
      .output()
      .split('\n')
      .map((line) => (line.startsWith('{') ? JSON.parse(line) : {}))
      .find((entry) => entry.msg === 'dgate ready');
    port = ready === undefined ? 0 : Number(String(ready.admin).split(':').pop());
    if (server.child.exitCode !== null) throw new Error(`dgate-server exited:\n${server.output()}`);
    return port > 0;
  }, 'the dgate ready line', 20_000);
  return port;
}

const etcdMissing = spawnSync(process.env.ETCD_BIN ?? 'etcd', ['--version']).status !== 0;

describe('dgate-server cluster settings', () => {
  it('refuses admin.replication, saying to configure etcd instead, with exit code 1', async () => {
    const server = await startServerProcess({
      waitReady: false,
      yaml: (p) => `storage: { type: memory }
proxy: { port: ${p.proxy} }
admin:
  port: ${p.admin}
  replication: { id: n1, bootstrap_cluster: true, advert_address: "127.0.0.1:${p.admin}" }
`,
    });
    assert.equal(await server.exited, 1);
    assert.match(server.output(), /admin\.replication: .*clusters share state through etcd; set storage\.type: etcd and storage\.endpoints on every node/);
  });

  it('a watch_only node with tags: listed with them, logs them at start, proxies and reads, refuses writes', async () => {
    const server = await startServerProcess({
      yaml: (p) => `storage: { type: memory }
node_id: ro-1
tags: [eu-west, readonly]
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 0 }
admin: { host: 127.0.0.1, port: ${p.admin}, watch_only: true }
`,
    });
    try {
      const res = await request(`${server.adminUrl}/api/v1/cluster`);
      const body = (await res.body.json()) as { count: number; node: string; data: Array<Record<string, unknown>> };
      assert.equal(res.statusCode, 200);
      assert.equal(body.count, 1);
      assert.equal(body.node, 'ro-1');
      assert.deepEqual(
        [body.data[0]!.id, body.data[0]!.tags, body.data[0]!.watchOnly, body.data[0]!.address],
        ['ro-1', ['eu-west', 'readonly'], true, server.adminUrl],
      );
      assert.equal(await putJson(server.adminUrl, 'namespace', { name: 'x' }), 403);
      const list = await request(`${server.adminUrl}/api/v1/namespace`);
      assert.equal(list.statusCode, 200);
      await list.body.dump();
      const ready = server
        .output()
        .split('\n')
        .map((line) => (line.startsWith('{') ? JSON.parse(line) : {}))
        .find((entry) => entry.msg === 'dgate ready');
      assert.deepEqual([ready?.node, ready?.tags], ['ro-1', ['eu-west', 'readonly']], 'the start-up line names the node and its tags');
    } finally {
      await stop(server);
    }
  });

  for (const storage of ['memory', 'etcd'] as const) {
    it(`on admin.port 0 without admin.advertise_address, the cluster view shows the port bound (${storage} storage)`, { skip: storage === 'etcd' && etcdMissing ? 'no etcd binary here' : false }, async () => {
      const etcd = storage === 'etcd' ? await startEtcdCluster({ size: 1 }) : null;
      const server = await startServerProcess({
        waitReady: false,
        yaml: (p) => `log_level: info
node_id: auto-port
storage: ${etcd === null ? '{ type: memory }' : `{ type: etcd, endpoints: ${JSON.stringify(etcd.endpoints)}, prefix: "/auto-port/", dir: ${p.dir}/data }`}
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 0 }
admin: { host: 127.0.0.1, port: 0 }
`,
      });
      try {
        const port = await boundAdminPort(server);
        const res = await request(`http://127.0.0.1:${port}/api/v1/cluster`);
        const body = (await res.body.json()) as { data: Array<{ id: string; address: string }> };
        assert.equal(res.statusCode, 200);
        assert.deepEqual(body.data.map((n) => [n.id, n.address]), [['auto-port', `http://127.0.0.1:${port}`]]);
      } finally {
        await stop(server);
        await etcd?.close();
      }
    });
  }

  const NOTE = `import { addDocument } from 'dgate/state';
export async function requestHandler(ctx: any) {
  try {
    await addDocument({ id: 'n1', collection: 'notes', data: { text: 'hi' } });
    ctx.response().json({ written: true });
  } catch (err: any) {
    ctx.response().status(409).json({ code: err.code, message: err.message });
  }
}
`;

  for (const workers of [0, 1]) {
    it(`a watch_only node refuses module writes (dgate/state) with DG_ERR_WATCH_ONLY, thrown in the module (proxy.workers: ${workers})`, async () => {
      const server = await startServerProcess({
        yaml: (p) => `storage: { type: memory }
proxy:
  host: 127.0.0.1
  port: ${p.proxy}
  workers: ${workers}
  init_resources:
    collections: [{ name: notes, namespace: default }]
    modules: [{ name: note, namespace: default, moduleType: typescript, payload: ${JSON.stringify(NOTE)} }]
    routes: [{ name: note, namespace: default, paths: ["/note"], methods: ["POST"], modules: [note] }]
admin: { host: 127.0.0.1, port: ${p.admin}, watch_only: true }
`,
      });
      try {
        const res = await request(`${server.proxyUrl}/note`, { method: 'POST' });
        const body = (await res.body.json()) as { code?: string; message?: string };
        assert.equal(res.statusCode, 409, JSON.stringify(body));
        assert.equal(body.code, 'DG_ERR_WATCH_ONLY');
        assert.match(body.message ?? '', /admin\.watch_only/);
        const docs = await request(`${server.adminUrl}/api/v1/document?collection=notes`);
        assert.equal(((await docs.body.json()) as { count: number }).count, 0, 'nothing was written');
      } finally {
        await stop(server);
      }
    });
  }
});

/**
 * Cluster settings through the real binary: DGate's Raft replication is refused with how to
 * cluster instead; a watch_only node with tags starts, shows itself in the cluster view and
 * refuses admin writes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from './support/http.js';
import { putJson, startServerProcess, stop } from './support/server-process.js';

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
});

/**
 * dgate-server with `storage.type: etcd` against a real etcd: resources written through the admin
 * API live in etcd and survive a restart of the gateway; etcd-only keys are refused elsewhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from './support/http.js';
import { startEtcdCluster, type EtcdCluster } from './support/etcd-cluster.js';
import { putJson, startServerProcess, stop } from './support/server-process.js';

describe('dgate-server on etcd', () => {
  let etcd: EtcdCluster;
  before(async () => {
    etcd = await startEtcdCluster({ size: 1 });
  });
  after(() => etcd.close());

  it('keeps resources in etcd across a gateway restart', async () => {
    const yaml = (p: { proxy: number; admin: number; dir: string }) => `
log_level: error
storage:
  type: etcd
  endpoints: [${etcd.endpoints.join(', ')}]
  prefix: /e2e-${process.pid}/
  dir: ${p.dir}/data
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 0 }
admin: { host: 127.0.0.1, port: ${p.admin} }
`;
    const first = await startServerProcess({ yaml });
    assert.equal(await putJson(first.adminUrl, 'namespace', { name: 'app' }), 201);
    assert.equal(await stop(first), 0);

    const second = await startServerProcess({ yaml });
    try {
      const res = await request(`${second.adminUrl}/api/v1/namespace/app`);
      assert.equal(res.statusCode, 200);
      assert.equal(((await res.body.json()) as { data: { name: string } }).data.name, 'app');
    } finally {
      await stop(second);
    }
  });

  it('answers an admin write with 503 naming etcd while etcd is down, and writes again once it is back', async () => {
    const server = await startServerProcess({
      yaml: (p) => `
log_level: error
storage: { type: etcd, endpoints: [${etcd.endpoints.join(', ')}], prefix: /e2e-down-${process.pid}/, dir: ${p.dir}/data }
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 0 }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
    });
    try {
      await etcd.stopAll();
      const started = Date.now();
      const res = await request(`${server.adminUrl}/api/v1/namespace`, {
        method: 'PUT',
        body: JSON.stringify({ name: 'during-outage' }),
        headers: { 'content-type': 'application/json' },
      });
      const body = (await res.body.json()) as { error: string; code: string };
      assert.equal(res.statusCode, 503);
      assert.equal(body.code, 'DG_ERR_STORE_UNAVAILABLE');
      assert.match(body.error, /etcd is unreachable/);
      assert.ok(Date.now() - started < 5000);
      await etcd.startAll();
      const deadline = Date.now() + 15_000;
      let status = 0;
      while (status !== 201 && Date.now() < deadline) status = await putJson(server.adminUrl, 'namespace', { name: 'after-outage' });
      assert.equal(status, 201);
    } finally {
      await stop(server);
    }
  });

  it('refuses etcd keys with file storage, naming the key', async () => {
    const server = await startServerProcess({
      waitReady: false,
      yaml: (p) => `storage: { type: file, dir: ${p.dir}/data, endpoints: ["http://127.0.0.1:2379"] }\nproxy: { port: ${p.proxy} }\nadmin: { port: ${p.admin} }\n`,
    });
    assert.equal(await server.exited, 1);
    assert.match(server.output(), /storage\.endpoints: only applies to storage\.type etcd/);
  });
});

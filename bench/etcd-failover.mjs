#!/usr/bin/env node
/**
 * By hand, never in CI: how long admin writes stall when etcd loses its leader, and how fast they
 * fail when etcd is gone, with the gateway's etcd client settings (src/store/etcd-client.ts) and
 * STOCK etcd timers (heartbeat 100 ms, election timeout 1000 ms).
 *
 *   npx tsc -p . && node bench/etcd-failover.mjs [--rounds N]
 *
 * Each round: a 3-member cluster on loopback, one commit, SIGKILL of the leader (found with the
 * Status call every member answers), then commits are retried (as an operator or syncer would on a
 * 503) until one goes through; the time from the kill to that success is reported. Then: every
 * member killed, time until the commit fails; a 10,000-route batch commit time.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdStore } from '../dist/src/store/etcd.js';
import { createEtcdClient } from '../dist/src/store/etcd-client.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function healthy(url) {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok && (await res.json()).health === 'true';
  } catch {
    return false;
  }
}

async function startCluster() {
  const root = mkdtempSync(join(tmpdir(), 'dgate-etcd-bench-'));
  const members = [];
  for (let i = 0; i < 3; i++) members.push({ name: `m${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}`, dir: join(root, `m${i}`), child: null });
  const initial = members.map((m) => `${m.name}=${m.peer}`).join(',');
  const launch = (m) => {
    m.child = spawn('etcd', ['--name', m.name, '--data-dir', m.dir, '--listen-client-urls', m.client, '--advertise-client-urls', m.client,
      '--listen-peer-urls', m.peer, '--initial-advertise-peer-urls', m.peer, '--initial-cluster', initial,
      '--initial-cluster-state', 'new', '--initial-cluster-token', `bench-${process.pid}`], { stdio: 'ignore' });
  };
  const kill = (m) => new Promise((r) => { if (!m.child) return r(); m.child.once('exit', r); m.child.kill('SIGKILL'); m.child = null; });
  const waitAll = async () => {
    const deadline = Date.now() + 30_000;
    while (!(await Promise.all(members.map((m) => healthy(m.client)))).every(Boolean)) {
      if (Date.now() > deadline) throw new Error('etcd not healthy');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  members.forEach(launch);
  await waitAll();
  return {
    members,
    endpoints: members.map((m) => m.client),
    kill,
    async restart(m) { launch(m); await waitAll(); },
    async close() { await Promise.all(members.map(kill)); rmSync(root, { recursive: true, force: true }); },
  };
}

async function leader(cluster) {
  for (const m of cluster.members) {
    if (!m.child) continue;
    const c = createEtcdClient({ endpoints: [m.client] });
    try {
      const s = await c.maintenance.status();
      if (s.leader === s.header.member_id) return m;
    } catch { /* down */ } finally { c.close(); }
  }
  throw new Error('no leader');
}

const ns = (name) => ({ op: 'put', kind: 'namespace', namespace: name, name, item: { name } });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cluster = await startCluster();
const client = createEtcdClient({ endpoints: cluster.endpoints });
const store = new EtcdStore({ client, prefix: `/bench-${process.pid}/` });
try {
  await store.commit([ns('warm-up')]);
  const stalls = [];
  for (let r = 1; r <= rounds; r++) {
    const m = await leader(cluster);
    await cluster.kill(m);
    const t0 = performance.now();
    let failures = 0;
    for (;;) {
      try { await store.commit([ns(`round-${r}`)]); break; } catch { failures++; }
    }
    const ms = performance.now() - t0;
    stalls.push(ms);
    console.log(`round ${r}: leader ${m.name} killed, next commit succeeded after ${ms.toFixed(0)} ms (${failures} refused attempt(s) first)`);
    await cluster.restart(m);
  }
  console.log(`leader loss: median ${median(stalls).toFixed(0)} ms, max ${Math.max(...stalls).toFixed(0)} ms over ${rounds} rounds`);

  const routes = Array.from({ length: 10_000 }, (_, i) => ({ op: 'put', kind: 'route', namespace: 'default', name: `route-${i}`,
    item: { name: `route-${i}`, namespace: 'default', paths: [`/api/v1/route-${i}/*`], methods: ['GET', 'POST'], preserveHost: false, stripPath: true, service: 'backend', tags: ['generated'] } }));
  let t0 = performance.now();
  await store.commit(routes);
  console.log(`10,000-route batch (${(Buffer.byteLength(JSON.stringify(routes)) / 1e6).toFixed(1)} MB) committed in ${(performance.now() - t0).toFixed(0)} ms`);
  t0 = performance.now();
  const snap = await store.load();
  console.log(`load of ${snap.items.length} items in ${(performance.now() - t0).toFixed(0)} ms`);

  await Promise.all(cluster.members.map((m) => cluster.kill(m)));
  t0 = performance.now();
  const err = await store.commit([ns('down')]).then(() => null, (e) => e);
  console.log(`all members down: commit ${err ? `failed with ${err.code} (${err.status})` : 'SUCCEEDED?'} after ${(performance.now() - t0).toFixed(0)} ms`);
} finally {
  await store.close();
  client.close();
  await cluster.close();
}

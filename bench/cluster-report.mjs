// How fast a node's applied revision reaches the cluster view (etcd membership), run by hand:
//   npx tsc -p . && node bench/cluster-report.mjs [rounds]
// Starts one real etcd member on loopback (Debian's etcd), registers two nodes, and measures
// (1) single reports: time from report() on node "a" to the entry being seen by an etcd watch;
// (2) a burst of 1000 reports: how many writes reached etcd and when the last revision was seen.
import { Etcd3 } from 'etcd3';
import { EtcdMembership } from '../dist/src/cluster/etcd.js';
import { startEtcdCluster } from '../dist/test/support/etcd-cluster.js';

const rounds = Number(process.argv[2] ?? 200);
const etcd = await startEtcdCluster({ size: 1 });
const clients = [new Etcd3({ hosts: etcd.endpoints }), new Etcd3({ hosts: etcd.endpoints })];
const identity = (id) => ({ id, address: `http://${id}`, tags: [], version: 'bench', watchOnly: false });
const a = await EtcdMembership.join({ client: clients[0], prefix: '/bench/', identity: identity('a') });
const b = await EtcdMembership.join({ client: clients[1], prefix: '/bench/', identity: identity('b') });

const seen = new Map(); // rev -> time seen
let writes = 0;
const watcher = await clients[1].watch().key('/bench/nodes/a').create();
watcher.on('put', (kv) => {
  writes++;
  const rev = JSON.parse(kv.value.toString()).rev;
  if (!seen.has(rev)) seen.set(rev, performance.now());
});
const waitSeen = async (rev) => {
  while (!seen.has(rev)) await new Promise((r) => setTimeout(r, 1));
  return seen.get(rev);
};

const latencies = [];
for (let rev = 1; rev <= rounds; rev++) {
  const t0 = performance.now();
  a.report({ rev });
  latencies.push((await waitSeen(rev)) - t0);
}
latencies.sort((x, y) => x - y);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(2);
console.log(`single reports (${rounds}): p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${latencies.at(-1).toFixed(2)} ms`);

writes = 0;
const base = rounds;
const t0 = performance.now();
for (let i = 1; i <= 1000; i++) a.report({ rev: base + i });
const last = await waitSeen(base + 1000);
console.log(`burst of 1000 reports: ${writes} writes reached etcd; last revision seen after ${(last - t0).toFixed(2)} ms`);

const listed = await b.list();
console.log(`list(): ${listed.map((n) => `${n.id}@${n.rev} ${n.status}`).join(', ')}`);
await watcher.cancel();
await a.close();
await b.close();
for (const c of clients) c.close();
await etcd.close();

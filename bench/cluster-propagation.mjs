#!/usr/bin/env node
// How long a change takes to reach the other nodes of a cluster: an admin write on node 1, timed
// until node 3's proxy serves it (node 3 is asked from the moment the write is sent), over N
// writes; next to etcd's own watch latency (a put by one client until another client's watch
// sees it), measured in the same run on the same etcd.
// Manual tool, never run in CI. See bench/README.md.
//
//   node bench/cluster-propagation.mjs [--writes 500] [--workers 0] [--ask from-log|from-write|after-answer] [--ask-gap 1] [--runtime node|bun]
//                                      [--profile DIR] [--timeline DIR]
//
// --profile DIR (with --runtime): each node runs under its runtime's CPU profiler
// (`node --cpu-prof` / `bun --cpu-prof`), writing DIR/<node>/*.cpuprofile when it is stopped.
// --timeline DIR (with --runtime): each node writes the steps of every write and revision
// (bench/timeline-preload.mjs) to DIR/<node>.txt; the bench prints where a write's time goes,
// from the write sent to node 1 to node 3 serving it.
//
// Needs: etcd and etcdctl (apt-get install -y etcd-server etcd-client), a built tree (npx tsc -p .).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Etcd3 } from 'etcd3';
import { request } from 'undici';
import { BENCH_DIR, BUN_BIN, CLK_TCK, GATEWAY_BIN, ROOT, freePort, median, f, gitHead, stampOf, treeTicks } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const WRITES = opt('--writes', 500);
const WORKERS = opt('--workers', 0);
/**
 * --ask: when the bench starts asking node 3 (every millisecond) for a write:
 *   from-log (default): once the write's log entry is in etcd (seen by the bench's own watcher) or
 *     node 1 answered, whichever comes first: node 3 cannot serve a change before its log entry is
 *     committed, so earlier requests only load the machine; a node 3 that was faster than the
 *     bench's watcher is timed at the first request (never earlier than it served);
 *   from-write: from the moment the write is sent (every request while the write commits);
 *   after-answer: once node 1 answered (`--ask-after-answer` too).
 */
/** --ask-gap MS: pause between two requests to node 3 for the same write (default 1; 0: the next one as soon as the last answered) */
const ASK_GAP = opt('--ask-gap', 1);
const ASK = args.includes('--ask-after-answer') ? 'after-answer' : args.includes('--ask') ? args[args.indexOf('--ask') + 1] : 'from-log';
if (!['from-log', 'from-write', 'after-answer'].includes(ASK)) throw new Error(`--ask ${ASK}: from-log, from-write or after-answer`);
/** --runtime node|bun: the gateway nodes' runtime (default: the gateway's own choice) */
const RUNTIME = args.includes('--runtime') ? args[args.indexOf('--runtime') + 1] : null;
/** --profile DIR: CPU profiles of the nodes (needs --runtime) */
const PROFILE = args.includes('--profile') ? path.resolve(args[args.indexOf('--profile') + 1]) : null;
/** --timeline DIR: the steps of every write on every node (needs --runtime) */
const TIMELINE = args.includes('--timeline') ? path.resolve(args[args.indexOf('--timeline') + 1]) : null;
if ((PROFILE !== null || TIMELINE !== null) && RUNTIME === null) throw new Error('--profile and --timeline need --runtime node|bun');
const DIRECT = PROFILE !== null || TIMELINE !== null;

const { startEtcdCluster } = await import(path.join(ROOT, 'dist/test/support/etcd-cluster.js'));

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** CPU time (ms) used so far by a process and its descendants (a node's tree includes a relaunched Bun) */
const cpuMs = (pid) => (treeTicks(pid).ticks * 1000) / CLK_TCK;

/** gRPC calls etcd members received so far, by method (their /metrics, summed over the members) */
async function etcdCalls(endpoints) {
  const total = new Map();
  for (const e of endpoints) {
    const text = await (await request(`${e}/metrics`)).body.text();
    for (const m of text.matchAll(/^grpc_server_started_total\{[^}]*grpc_method="(\w+)"[^}]*\} ([0-9.e+]+)$/gm)) total.set(m[1], (total.get(m[1]) ?? 0) + Number(m[2]));
  }
  return total;
}

/**
 * Where the time of each write goes, from the steps the nodes wrote (bench/timeline-preload.mjs)
 * and the bench's own times, on one clock (wall-clock ms): p50 / p99 of each stage, and its
 * mean over the slowest 2 % of writes (by served by node 3).
 */
function printTimeline(writes) {
  const steps = {};
  for (const id of ['n1', 'n2', 'n3']) {
    const at = {};
    let text = '';
    try {
      text = fs.readFileSync(path.join(TIMELINE, `${id}.txt`), 'utf8');
    } catch {}
    for (const line of text.split('\n')) {
      const [t, step, rev] = line.split(' ');
      if (rev === undefined) continue;
      // the first time a node reached a step for a revision
      const byRev = (at[step] ??= new Map());
      if (!byRev.has(Number(rev))) byRev.set(Number(rev), Number(t));
    }
    steps[id] = at;
  }
  const s = (id, step, rev) => steps[id][step]?.get(rev);
  const stages = [
    ['bench → node 1: write handed to the write path (admin HTTP)', (w) => s('n1', 'write', w.rev) - w.sent],
    ['node 1: → commit sent (validation, check table)', (w) => s('n1', 'commit-sent', w.rev) - s('n1', 'write', w.rev)],
    ['node 1: commit sent → committed (etcd transaction)', (w) => s('n1', 'committed', w.rev) - s('n1', 'commit-sent', w.rev)],
    ['node 1: committed → live on node 1', (w) => s('n1', 'live', w.rev) - s('n1', 'committed', w.rev)],
    ['node 1: live → answer received by the bench', (w) => w.answered - s('n1', 'live', w.rev)],
    ['commit sent → node 2 watch event', (w) => s('n2', 'received', w.rev) - s('n1', 'commit-sent', w.rev)],
    ['commit sent → node 3 watch event', (w) => s('n3', 'received', w.rev) - s('n1', 'commit-sent', w.rev)],
    ['node 3: watch event → applied', (w) => s('n3', 'applied', w.rev) - s('n3', 'received', w.rev)],
    ['node 3: applied → live (proxy serves it)', (w) => s('n3', 'live', w.rev) - s('n3', 'applied', w.rev)],
    ['node 3: live → the bench\'s request sees it', (w) => w.served - s('n3', 'live', w.rev)],
    ['  commit sent → the bench\'s watcher sees the log entry', (w) => w.logSeen - s('n1', 'commit-sent', w.rev)],
    ['  the bench\'s watcher sees the log entry → its request sees it', (w) => w.served - w.logSeen],
    ['  node 3 live → the upstream gets its request with the change', (w) => w.forwarded - s('n3', 'live', w.rev)],
    ['  the upstream gets it → the answer is back at the bench', (w) => w.served - w.forwarded],
    ['total: write sent → served by node 3', (w) => w.served - w.sent],
  ];
  const slowest = [...writes].sort((a, b) => b.served - b.sent - (a.served - a.sent)).slice(0, Math.max(1, Math.ceil(writes.length / 50)));
  console.log(`\ntimeline of ${writes.length} writes (ms): p50, p99, mean over the slowest 2 % (${slowest.length} writes)`);
  for (const [name, fn] of stages) {
    const xs = writes.map(fn).filter(Number.isFinite);
    const slow = slowest.map(fn).filter(Number.isFinite);
    if (xs.length === 0) continue;
    console.log(`  ${name.padEnd(64)} ${f(median(xs), 2).padStart(7)} ${f(pct(xs, 99), 2).padStart(7)} ${f(slow.reduce((a, b) => a + b, 0) / slow.length, 2).padStart(7)}`);
  }
}

async function startNode(id, endpoints, prefix, dir) {
  const proxy = await freePort();
  const adminPort = await freePort();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    file,
    `log_level: warn
${RUNTIME === null ? '' : `runtime: ${RUNTIME}\n`}node_id: ${id}
storage: { type: etcd, endpoints: [${endpoints.map((e) => JSON.stringify(e)).join(', ')}], prefix: "${prefix}", dir: ${dir}/data }
proxy: { host: 127.0.0.1, port: ${proxy}, workers: ${WORKERS} }
admin: { host: 127.0.0.1, port: ${adminPort} }
`,
  );
  // profiled: the runtime runs the server itself (no launcher process), under its CPU profiler
  const profile = PROFILE === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE, id)}`];
  const preload = TIMELINE === null ? [] : [RUNTIME === 'bun' ? '--preload' : '--import', path.join(BENCH_DIR, 'timeline-preload.mjs')];
  const env = TIMELINE === null ? process.env : { ...process.env, DGATE_BENCH_TIMELINE: path.join(TIMELINE, `${id}.txt`) };
  if (TIMELINE !== null) fs.mkdirSync(TIMELINE, { recursive: true });
  const exec = DIRECT && RUNTIME === 'bun' ? BUN_BIN : process.execPath;
  const child = spawn(exec, [...profile, ...preload, GATEWAY_BIN, '--config', file], { stdio: ['ignore', 'inherit', 'inherit'], env });
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  for (let i = 0; ; i++) {
    try {
      const res = await request(`${adminUrl}/readyz`);
      await res.body.dump();
      if (res.statusCode === 200) break;
    } catch {}
    if (i > 400) throw new Error(`node ${id} not ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { id, child, adminUrl, proxyUrl: `http://127.0.0.1:${proxy}` };
}

/** PUT on a node's admin API; resolves with the revision of the write (X-DGate-Revision). */
async function put(node, kind, body) {
  const res = await request(`${node.adminUrl}/api/v1/${kind}`, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await res.body.text();
  if (res.statusCode !== 201) throw new Error(`PUT ${kind}: ${res.statusCode} ${text}`);
  return Number(res.headers['x-dgate-revision']);
}

/** when the upstream first got a request carrying each value (a proxy forwarding with the new service URL) */
const forwardedAt = new Map();
const upstream = http.createServer((req, res) => {
  const v = Number(new URL(req.url, 'http://x').searchParams.get('v'));
  if (!forwardedAt.has(v)) forwardedAt.set(v, performance.now());
  res.end(req.url);
});
let upstreamConnections = 0;
upstream.on('connection', () => upstreamConnections++);
await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;

const etcd = await startEtcdCluster({ size: 3 });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dgate-bench-cluster-'));
const prefix = `/bench-${Date.now()}/`;
const nodes = [];
/** per write, wall-clock ms (epoch): sent, answered by node 1, served by node 3 (for --timeline) */
let timed = null;
/** set when the run ends (e.g. a write failed): requests to node 3 still under way stop */
let stopped = false;
try {
  for (const id of ['n1', 'n2', 'n3']) nodes.push(await startNode(id, etcd.endpoints, prefix, path.join(tmp, id)));
  const [n1, , n3] = nodes;
  await put(n1, 'namespace', { name: 'b' });
  await put(n1, 'domain', { name: 'b', namespace: 'b', patterns: ['b.test'] });
  await put(n1, 'service', { name: 'up', namespace: 'b', urls: [`${upstreamUrl}/?v=0`] });
  const setupRev = await put(n1, 'route', { name: 'r', namespace: 'b', paths: ['/*'], methods: ['GET'], service: 'up', stripPath: true });

  let asked = 0;
  const served = async (v) => {
    asked++;
    const res = await request(`${n3.proxyUrl}/x`, { headers: { host: 'b.test' } });
    return (await res.body.text()).includes(`v=${v}`);
  };
  while (!(await served(0))) await new Promise((r) => setTimeout(r, 10));

  // Both measurements alternate write by write, so that they see the same machine load:
  // gateway: write on node 1 → served by node 3; etcd: a put by one client until another
  // client's watch sees it. A third client watches the gateway's log keys: when it sees a
  // write's log entry splits the gateway's time into commit (write → entry visible to watchers)
  // and follow (entry visible → node 3 serves it: watch delivery, apply, worker update).
  const a = new Etcd3({ hosts: etcd.endpoints });
  const b = new Etcd3({ hosts: etcd.endpoints });
  const c = new Etcd3({ hosts: etcd.endpoints });
  const seen = new Map();
  const watcher = await b.watch().prefix('/watch-bench/').create();
  watcher.on('put', (kv) => seen.get(kv.value.toString())?.());
  const logSeen = new Map();
  /** the bench waits for a revision's log entry (--ask from-log) */
  const logWaiters = new Map();
  const logWatcher = await c.watch().prefix(`${prefix}log/`).create();
  logWatcher.on('put', (kv) => {
    const key = kv.key.toString();
    const r = Number(key.slice(key.lastIndexOf('/') + 1));
    logSeen.set(r, performance.now());
    logWaiters.get(r)?.();
  });
  const logEntry = (r) => (logSeen.has(r) ? Promise.resolve() : new Promise((resolve) => logWaiters.set(r, resolve)));
  // only node 1 commits during the run: the next write's revision is the last one + 1
  let lastRev = setupRev;
  const gw = [];
  const ack = [];
  const revs = [];
  /** 1 when node 3 served the write before node 1 answered it */
  const before = [];
  const commit = [];
  const follow = [];
  const et = [];
  // CPU time (utime + stime) of every process of the run, over the writes: on a 2-core machine
  // each process's share delays all the others.
  const procs = [...nodes.map((n) => [n.id, n.child.pid]), ...etcd.members.map((m) => [m.name, m.child?.pid ?? 0]), ['bench', process.pid]];
  const cpu0 = procs.map(([, pid]) => cpuMs(pid));
  const calls0 = await etcdCalls(etcd.endpoints);
  const asked0 = asked;
  for (let v = 1; v <= WRITES; v++) {
    const t0 = performance.now();
    // What is timed is the change reaching node 3, which does not wait for node 1's answer (nor
    // node 1's own workers). Node 3 is asked every millisecond (a tight loop would take a core
    // from etcd and the nodes) from the moment --ask says.
    const ask = async () => {
      while (!(await served(v))) {
        if (stopped) throw new Error('stopped');
        if (ASK_GAP > 0) await new Promise((r) => setTimeout(r, ASK_GAP));
      }
      return performance.now();
    };
    const writing = put(n1, 'service', { name: 'up', namespace: 'b', urls: [`${upstreamUrl}/?v=${v}`] });
    let early = null;
    if (ASK === 'from-write') early = ask();
    else if (ASK === 'from-log') early = Promise.race([logEntry(lastRev + 1), writing.catch(() => {})]).then(ask);
    // a failed write ends the run: the requests under way then stop without an unhandled rejection
    early?.catch(() => {});
    const rev = await writing;
    const answered = performance.now();
    if (rev !== lastRev + 1 && ASK === 'from-log') throw new Error(`write ${v}: revision ${rev}, expected ${lastRev + 1}`);
    lastRev = rev;
    logWaiters.delete(rev);
    const servedAt = early ?? ask();
    ack.push(answered - t0);
    revs.push(rev);
    const t1 = await servedAt;
    if (TIMELINE !== null) {
      const seenAt = logSeen.get(rev);
      const fwd = forwardedAt.get(v);
      (timed ??= []).push({
        rev,
        sent: performance.timeOrigin + t0,
        answered: performance.timeOrigin + answered,
        served: performance.timeOrigin + t1,
        logSeen: seenAt === undefined ? NaN : performance.timeOrigin + seenAt,
        forwarded: fwd === undefined ? NaN : performance.timeOrigin + fwd,
      });
    }
    before.push(t1 < answered ? 1 : 0);
    gw.push(t1 - t0);
    const logAt = logSeen.get(rev);
    commit.push(logAt === undefined ? null : logAt - t0);
    follow.push(logAt === undefined ? null : t1 - logAt);

    const e0 = performance.now();
    const got = new Promise((r) => seen.set(String(v), r));
    await a.put('/watch-bench/k').value(String(v));
    await got;
    et.push(performance.now() - e0);
  }
  const cpu = Object.fromEntries(procs.map(([name, pid], i) => [name, (cpuMs(pid) - cpu0[i]) / WRITES]));
  const calls1 = await etcdCalls(etcd.endpoints);
  const askedPerWrite = (asked - asked0) / WRITES;
  const callsPerWrite = Object.fromEntries([...calls1].map(([k, n]) => [k, (n - (calls0.get(k) ?? 0)) / WRITES]).filter(([, n]) => n > 0));
  // the bench's tree holds the nodes and etcd members: its own share is what they did not use
  for (const [name] of procs) if (name !== 'bench') cpu.bench -= cpu[name];
  await watcher.cancel();
  await logWatcher.cancel();
  a.close();
  b.close();
  c.close();

  const row = (name, xs) => `${name.padEnd(44)} p50 ${f(median(xs), 2).padStart(7)} ms   p99 ${f(pct(xs, 99), 2).padStart(7)} ms   max ${f(Math.max(...xs), 2).padStart(7)} ms`;
  console.log(`\n${WRITES} writes, 3 etcd members, 3 gateway nodes (proxy.workers: ${WORKERS}, runtime: ${RUNTIME ?? 'default'}), node 3 asked ${ASK}, gap ${ASK_GAP} ms (${f(askedPerWrite, 1)} requests per write), ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(row('admin write on node 1 answered', ack));
  console.log(row('admin write on node 1 → served by node 3', gw));
  const known = (xs) => xs.filter((x) => x !== null);
  console.log(row('  write → log entry seen by a watcher', known(commit)));
  console.log(row('  log entry seen → served by node 3', known(follow)));
  console.log(row('etcd put → another client\'s watch event', et));
  // node 3's own figure: from its syncer seeing a revision to its proxy serving it
  const metrics = await (await request(`${n3.adminUrl}/metrics`)).body.text();
  const metric = (name) => Number(metrics.match(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm'))?.[1] ?? NaN);
  const applied = metric('dgate_config_apply_seconds_count');
  console.log(`node 3: revision seen → served, mean ${f((metric('dgate_config_apply_seconds_sum') / applied) * 1000, 2)} ms over ${applied} revisions`);
  console.log(`CPU per write, ms: ${Object.entries(cpu).map(([name, ms]) => `${name} ${f(ms, 2)}`).join(', ')}`);
  console.log(`upstream: ${upstreamConnections} connections opened by the proxies over the run`);
  console.log(`etcd calls per write (all clients, the bench's included): ${Object.entries(callsPerWrite).map(([k, n]) => `${k} ${f(n, 2)}`).join(', ')}`);
  console.log(`node 3 served the write before node 1 answered it: ${before.reduce((a, b) => a + b, 0)} of ${WRITES} writes`);
  const out = path.join(BENCH_DIR, 'results');
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `cluster-propagation-${stampOf(new Date())}.json`);
  fs.writeFileSync(file, JSON.stringify({ git: gitHead(), writes: WRITES, workers: WORKERS, ask: ASK, ask_gap_ms: ASK_GAP, asked_per_write: askedPerWrite, runtime: RUNTIME, loadavg: os.loadavg(), cpu_ms_per_write: cpu, etcd_calls_per_write: callsPerWrite, per_write: { rev: revs, served_before_answer: before, ack_ms: ack, served_ms: gw, commit_ms: commit, follow_ms: follow, etcd_watch_ms: et } }));
  console.log(`written ${path.relative(process.cwd(), file)}`);
  console.log(`target: gateway p99 <= etcd watch p99 + 5 ms = ${f(pct(et, 99) + 5, 2)} ms → ${pct(gw, 99) <= pct(et, 99) + 5 ? 'met' : 'NOT met'}`);
} finally {
  stopped = true;
  // profiled nodes stop cleanly, so that their runtime writes the profile
  await Promise.all(
    nodes.map((n) => {
      if (!DIRECT || n.child.exitCode !== null) return n.child.kill('SIGKILL');
      const exited = new Promise((r) => n.child.once('exit', r));
      n.child.kill('SIGTERM');
      return Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]).then(() => n.child.kill('SIGKILL'));
    }),
  );
  if (PROFILE !== null) console.log(`CPU profiles in ${PROFILE}`);
  if (TIMELINE !== null && timed !== null) printTimeline(timed);
  await etcd.close();
  upstream.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}

#!/usr/bin/env node
/**
 * bench/etcd-memory.mjs: memory of a gateway node on etcd with a large state, and how it holds
 * up under admin writes. Starts one real etcd member (dist/test/support/etcd-cluster.js), then
 * dgate-server (`storage.type: etcd`, --workers proxy workers, --routes routes written at start
 * through init_resources, started directly on the chosen runtime) and reads the RSS (VmRSS from
 * /proc/<pid>/status) of the primary and of each worker (its children) --settle seconds after
 * the node is ready, then again after each checkpoint of route writes (--writes, cumulative),
 * each write through the admin API, one after the other; one document write follows every
 * 10 route writes. Half the route writes change an existing route, half add one. Before each
 * reading, the last route written must be served by the proxy. The highest RSS sampled (every
 * 250 ms) while the writes of each checkpoint went on is printed too.
 *
 * The node commits every write itself, so it also runs the etcd store's compaction (every 100
 * revisions) and keeps its local last-known-good snapshot current (at most once a second).
 *
 *   node bench/etcd-memory.mjs [--routes 10000] [--writes 300,800] [--runtime bun|node]
 *
 * Needs Debian's etcd on the PATH and a built dist/ (npx tsc -p tsconfig.json). Run by hand,
 * never in CI. See bench/README.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BENCH_DIR, BUN_BIN, ROOT, die, readArgs, installCleanup, makeTmpDir, startProcess, stopProcess, cleanup, freePort, httpGet,
  waitFor, descendants, f, pad, stampOf, gatewaySnapshot, runMeta, sleep, tail, which, manyRoutesResources,
} from './lib.mjs';

const HELP = `usage: node bench/etcd-memory.mjs [options]
  --routes N           routes written at start through init_resources (10000)
  --writes LIST        cumulative route-write counts at which RSS is read (300,800)
  --workers N          proxy workers (2)
  --storage S          etcd (default), or file to compare with the same node on SQLite
  --runtime R          bun (default: the primary runs on Bun, as dgate-server picks it) or node
  --settle S           seconds between the last write and the reading (3)
  --cpu N              CPU the gateway is pinned to (0)
  --runtime-args ARGS  arguments for the runtime before the script, space-separated (e.g. "--preload ./heap-log.js")
  --gateway-bin PATH   run this dgate-server.js instead of a copy of this checkout's dist/
  --out DIR            where the JSON goes (bench/results); --keep-tmp keeps configs and logs
`;

const o = { routes: 10000, writes: [300, 800], workers: 2, runtime: 'bun', settle: 3, cpu: 0, runtimeArgs: [], storage: 'etcd', out: path.join(BENCH_DIR, 'results'), keepTmp: false, bin: null };
readArgs(process.argv.slice(2), HELP, o, {
  '--routes': (o, { num }) => (o.routes = num(1)),
  '--writes': (o, { next }) => {
    o.writes = next().split(',').map(Number);
    if (o.writes.some((n) => !Number.isSafeInteger(n) || n < 1) || o.writes.some((n, j) => j > 0 && n <= o.writes[j - 1])) die('--writes must be increasing positive integers');
  },
  '--workers': (o, { num }) => (o.workers = num()),
  '--runtime': (o, { next }) => {
    o.runtime = next();
    if (o.runtime !== 'bun' && o.runtime !== 'node') die('--runtime must be bun or node');
  },
  '--settle': (o, { num }) => (o.settle = num()),
  '--cpu': (o, { num }) => (o.cpu = num()),
  '--storage': (o, { next }) => {
    o.storage = next();
    if (o.storage !== 'etcd' && o.storage !== 'file') die('--storage must be etcd or file');
  },
  '--runtime-args': (o, { next }) => (o.runtimeArgs = next().split(' ').filter(Boolean)),
  '--gateway-bin': (o, { next }) => (o.bin = path.resolve(next())),
  '--out': (o, { next }) => (o.out = path.resolve(next())),
  '--keep-tmp': (o) => (o.keepTmp = true),
});

const CLUSTER_HELPER = path.join(ROOT, 'dist/test/support/etcd-cluster.js');
if (!which('etcd')) die('etcd is not on the PATH (apt-get install -y etcd-server)');
if (!fs.existsSync(CLUSTER_HELPER)) die(`${path.relative(ROOT, CLUSTER_HELPER)} missing: build first (npx tsc -p tsconfig.json)`);

installCleanup('etcd-memory');
const tmp = makeTmpDir(o.keepTmp);
/** the etcd cluster, stopped at exit whatever happens */
let etcd = null;
process.on('exit', () => {
  for (const m of etcd?.members ?? []) m.child?.kill('SIGKILL');
});

const UPSTREAM = `
import http from 'node:http';
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }); res.end('ok'); }).listen(Number(process.argv[1]), '127.0.0.1');
`;

function rssMb(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** the primary (the started process: taskset execs the runtime) and its workers */
function rssOf(primaryPid) {
  return descendants(primaryPid).map((pid) => ({ pid, role: pid === primaryPid ? 'primary' : 'worker', rss_mb: rssMb(pid) }));
}

async function call(method, url, body) {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
}

function configFor(ports, upstreamPort, endpoints, dir) {
  const init = manyRoutesResources(o.routes, upstreamPort);
  // JSON is YAML: the big lists go in flow style (the file bench/write-path.mjs writes, on etcd)
  return `# generated by bench/etcd-memory.mjs
log_level: error
storage: ${o.storage === 'etcd' ? `{ type: etcd, endpoints: ${JSON.stringify(endpoints)}, prefix: /bench/, dir: ${JSON.stringify(dir)} }` : `{ type: file, dir: ${JSON.stringify(dir)} }`}
admin: { host: 127.0.0.1, port: ${ports.admin} }
proxy:
  host: 127.0.0.1
  port: ${ports.proxy}
  workers: ${o.workers}
  init_resources: ${JSON.stringify(init)}
`;
}

async function main() {
  const startedAt = new Date();
  const { bin } = o.bin ? { bin: o.bin } : await gatewaySnapshot();
  const { startEtcdCluster } = await import(pathToFileURL(CLUSTER_HELPER).href);
  if (o.storage === 'etcd') etcd = await startEtcdCluster({ size: 1 });
  const upstreamPort = await freePort();
  const upstream = startProcess('upstream', o.cpu, process.execPath, ['--input-type=module', '-e', UPSTREAM, String(upstreamPort)]);
  await waitFor('upstream', upstream, async () => (await httpGet(`http://127.0.0.1:${upstreamPort}/`)).status === 200);

  const ports = { proxy: await freePort(), admin: await freePort() };
  const dir = path.join(tmp, 'node');
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, configFor(ports, upstreamPort, etcd?.endpoints ?? [], path.join(dir, 'data')));
  const exec = o.runtime === 'bun' ? BUN_BIN : process.execPath;
  const t0 = performance.now();
  const proc = startProcess('gateway', o.cpu, exec, [...o.runtimeArgs, bin, '--config', config, '--runtime', o.runtime], { cwd: dir });
  const admin = `http://127.0.0.1:${ports.admin}`;
  const proxy = `http://127.0.0.1:${ports.proxy}`;
  await waitFor(`gateway (${o.routes} routes) /readyz`, proc, async () => (await httpGet(`${admin}/readyz`)).status === 200, 300_000);
  await waitFor('a route served', proc, async () => (await httpGet(`${proxy}/r/5`)).status === 200, 30_000);
  const startMs = performance.now() - t0;

  const readings = [];
  const read = async (routeWrites, docWrites) => {
    await sleep(o.settle * 1000);
    if (proc.exited) throw new Error(`gateway exited (${proc.exitCode})\n${tail(proc.log)}`);
    const procs = rssOf(proc.pid);
    readings.push({ route_writes: routeWrites, document_writes: docWrites, processes: procs });
    process.stderr.write(`etcd-memory: after ${routeWrites} route writes: ${procs.map((p) => `${p.role} ${f(p.rss_mb)} MB`).join(', ')}\n`);
  };
  await read(0, 0);

  let done = 0;
  let docs = 0;
  const writeMs = [];
  // the highest RSS of each process while the writes of a checkpoint go on (sampled every 250 ms)
  let peak = new Map();
  const sampler = setInterval(() => {
    for (const p of rssOf(proc.pid)) if (!(peak.get(p.pid) >= p.rss_mb)) peak.set(p.pid, p.rss_mb);
  }, 250);
  for (const target of o.writes) {
    peak = new Map();
    const t = performance.now();
    for (; done < target; done++) {
      // even: a new route; odd: an existing route gets one more path
      const body = done % 2 === 0
        ? { name: `w${done}`, paths: [`/w/${done}`], methods: ['GET'], service: 'up' }
        : { name: `r${done % o.routes}`, paths: [`/r/${done % o.routes}`, `/r/${done % o.routes}/{rest}`, `/w/${done}`], methods: ['GET'], service: 'up' };
      await call('PUT', `${admin}/api/v1/route`, body);
      if (done % 10 === 9) {
        await call('PUT', `${admin}/api/v1/document/d${docs}?collection=notes`, { n: docs, text: `note ${docs}` });
        docs++;
      }
    }
    writeMs.push((performance.now() - t) / (target - (readings.at(-1)?.route_writes ?? 0)));
    const peakDuring = peak;
    const last = `/w/${done - 1}`;
    await waitFor(`${last} served`, proc, async () => (await httpGet(`${proxy}${last}`)).status === 200, 30_000);
    await read(done, docs);
    readings.at(-1).peak_during_writes_mb = Object.fromEntries(peakDuring);
  }
  clearInterval(sampler);
  await stopProcess(proc);
  await stopProcess(upstream);
  await etcd?.close();
  etcd = null;

  const roles = readings[0].processes.map((p, i) => (p.role === 'worker' ? `worker ${i}` : p.role));
  console.log(`\nRSS MB (${o.routes} routes, storage ${o.storage}, ${o.runtime}, ${o.workers} workers, started in ${f(startMs / 1000)} s)`);
  console.log(`${pad('route writes', 12)} ${pad('doc writes', 10)} ${roles.map((r) => pad(r, 9)).join(' ')}`);
  for (const r of readings) {
    const byPid = new Map(r.processes.map((p) => [p.pid, p.rss_mb]));
    const peaks = r.peak_during_writes_mb ?? {};
    console.log(`${pad(r.route_writes, 12)} ${pad(r.document_writes, 10)} ${readings[0].processes.map((p) => pad(f(byPid.get(p.pid)), 9)).join(' ')}   peak while writing: ${readings[0].processes.map((p) => f(peaks[p.pid])).join(' / ')}`);
  }
  console.log(`mean ms per route write (with its share of document writes): ${writeMs.map((x) => f(x)).join(' / ')}`);
  fs.mkdirSync(o.out, { recursive: true });
  const file = path.join(o.out, `etcd-memory-${stampOf(startedAt)}.json`);
  fs.writeFileSync(file, JSON.stringify({ ...runMeta('etcd-memory', o, startedAt, { bin }), start_ms: startMs, write_ms_mean: writeMs, readings }, null, 2));
  console.log(`written ${path.relative(process.cwd(), file)}`);
  await cleanup();
}

main().catch(async (err) => {
  process.stderr.write(`etcd-memory: ${err.stack ?? err}\n`);
  await etcd?.close().catch(() => {});
  await cleanup();
  process.exit(1);
});

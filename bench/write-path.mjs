#!/usr/bin/env node
/**
 * bench/write-path.mjs: what an admin write costs as the configuration grows, and what the size
 * of the configuration costs the proxy. Runs the real dgate-server (2 proxy workers, file
 * store) with 10, 100 and 10,000 routes (written at start through init_resources) and measures:
 *
 * - route write: time until PUT /api/v1/route answers, then until the proxy serves the new route
 *   (median and p95 over --writes writes);
 * - document write: time until PUT /api/v1/document answers (median, p95);
 * - proxied CPU per request: a keep-alive load generator (Node + undici, its own process pinned to
 *   --load-cpu) sends GET /r/5 for --duration seconds; CPU = utime+stime of the gateway's process
 *   tree from /proc, divided by the requests answered;
 * - RSS (VmRSS from /proc/<pid>/status) of the primary and of each worker after start-up, after
 *   the load and after all the writes (--writes route writes + --writes document writes, then
 *   another --more-writes route writes).
 *
 *   node bench/write-path.mjs [--sizes 10,100,10000] [--writes 30] [--more-writes 70]
 *                             [--duration 10] [--gateway-bin path/to/dgate-server.js]
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BENCH_DIR, die, readArgs, installCleanup, makeTmpDir, startProcess, stopProcess, cleanup, freePort, httpGet, waitFor,
  treeTicks, descendants, CLK_TCK, median, f, pad, stampOf, gatewaySnapshot, gitHead, sleep, tail, manyRoutesResources,
} from './lib.mjs';

const HELP = `usage: node bench/write-path.mjs [options]
  --sizes LIST         route counts to run (10,100,10000)
  --writes N           route writes and document writes measured per size (30)
  --more-writes N      further route writes before the last RSS reading (70)
  --duration S         seconds of proxied load per size (10)
  --connections N      load generator connections (50)
  --proxy-cpu N        CPU the gateway is pinned to (0); --load-cpu N: the load generator and upstream (1)
  --gateway-bin PATH   run this dgate-server.js instead of a copy of this checkout's dist/
  --out DIR            where the JSON goes (bench/results); --keep-tmp keeps configs and logs
`;

const o = { sizes: [10, 100, 10000], writes: 30, moreWrites: 70, duration: 10, connections: 50, proxyCpu: 0, loadCpu: 1, out: path.join(BENCH_DIR, 'results'), keepTmp: false, bin: null };
readArgs(process.argv.slice(2), HELP, o, {
  '--sizes': (o, { next }) => (o.sizes = next().split(',').map(Number)),
  '--writes': (o, { num }) => (o.writes = num(1)),
  '--more-writes': (o, { num }) => (o.moreWrites = num()),
  '--duration': (o, { num }) => (o.duration = num(1)),
  '--connections': (o, { num }) => (o.connections = num(1)),
  '--proxy-cpu': (o, { num }) => (o.proxyCpu = num()),
  '--load-cpu': (o, { num }) => (o.loadCpu = num()),
  '--gateway-bin': (o, { next }) => (o.bin = path.resolve(next())),
  '--out': (o, { next }) => (o.out = path.resolve(next())),
  '--keep-tmp': (o) => (o.keepTmp = true),
});

installCleanup('write-path');
const tmp = makeTmpDir(o.keepTmp);

const UPSTREAM = `
import http from 'node:http';
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }); res.end('ok'); });
s.keepAliveTimeout = 120000;
s.listen(Number(process.argv[1]), '127.0.0.1');
`;

/** keep-alive load: argv port path seconds connections; prints {"requests","errors"} */
const LOAD = `
import { Pool } from 'undici';
const [port, p, seconds, connections] = process.argv.slice(1);
const pool = new Pool('http://127.0.0.1:' + port, { connections: Number(connections), pipelining: 1 });
let requests = 0, errors = 0, stop = false;
setTimeout(() => (stop = true), Number(seconds) * 1000);
async function loop() {
  while (!stop) {
    try {
      const r = await pool.request({ path: p, method: 'GET' });
      await r.body.dump();
      if (r.statusCode === 200) requests++; else errors++;
    } catch { errors++; }
  }
}
await Promise.all(Array.from({ length: Number(connections) }, loop));
await pool.close();
process.stdout.write(JSON.stringify({ requests, errors }) + '\\n');
`;

function rssKb(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function parentOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function rssOf(gw) {
  const pids = descendants(gw.proc.pid);
  // taskset execs the command, so the group leader is the started process: the primary, or the
  // Node launcher when it relaunched the server on Bun (then the workers are grandchildren)
  const depth = new Map([[gw.proc.pid, 0]]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const pid of pids) {
      if (depth.has(pid)) continue;
      const d = depth.get(parentOf(pid));
      if (d !== undefined) {
        depth.set(pid, d + 1);
        changed = true;
      }
    }
  }
  const launched = [...depth.values()].some((d) => d >= 2);
  const roles = launched ? ['launcher', 'primary', 'worker'] : ['primary', 'worker', 'worker'];
  return pids.map((pid) => ({ pid, role: roles[Math.min(depth.get(pid) ?? 2, 2)], rss_mb: (rssKb(pid) ?? 0) / 1024 }));
}

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function call(method, url, body) {
  const t0 = performance.now();
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return ms;
}

function configFor(size, ports, upstreamPort, dir) {
  const init = manyRoutesResources(size, upstreamPort);
  // JSON is YAML: the big lists go in flow style.
  return `# generated by bench/write-path.mjs
log_level: error
storage: { type: file, dir: ${JSON.stringify(dir)} }
admin: { host: 127.0.0.1, port: ${ports.admin} }
proxy:
  host: 127.0.0.1
  port: ${ports.proxy}
  workers: 2
  init_resources: ${JSON.stringify(init)}
`;
}

async function runSize(bin, size, upstreamPort) {
  const ports = { proxy: await freePort(), admin: await freePort() };
  const dir = path.join(tmp, `gw-${size}`);
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, configFor(size, ports, upstreamPort, path.join(dir, 'data')));
  const t0 = performance.now();
  const proc = startProcess(`gateway-${size}`, o.proxyCpu, process.execPath, [bin, '--config', config], { cwd: dir });
  const gw = { proc };
  const admin = `http://127.0.0.1:${ports.admin}`;
  const proxy = `http://127.0.0.1:${ports.proxy}`;
  await waitFor(`gateway (${size} routes) /readyz`, proc, async () => (await httpGet(`${admin}/readyz`)).status === 200, 300_000);
  await waitFor('a route served', proc, async () => (await httpGet(`${proxy}/r/5`)).status === 200, 30_000);
  const startMs = performance.now() - t0;
  await sleep(1000);
  const rssStart = rssOf(gw);

  // proxied CPU per request
  const before = treeTicks(proc.pid);
  const load = startProcess(`load-${size}`, o.loadCpu, process.execPath, ['--input-type=module', '-e', LOAD, String(ports.proxy), '/r/5', String(o.duration), String(o.connections)], { cwd: path.resolve(BENCH_DIR, '..') });
  const loadDeadline = Date.now() + (o.duration + 60) * 1000;
  while (!load.exited && Date.now() < loadDeadline) await sleep(100);
  if (!load.exited) throw new Error('load generator did not finish');
  const after = treeTicks(proc.pid);
  const loadOut = JSON.parse(fs.readFileSync(load.log, 'utf8').trim().split('\n').pop());
  if (loadOut.errors > 0 || loadOut.requests === 0) throw new Error(`load saw ${loadOut.errors} errors, ${loadOut.requests} answers\n${tail(proc.log)}`);
  const cpuUsPerReq = (((after.ticks - before.ticks) / CLK_TCK) * 1e6) / loadOut.requests;
  const rssLoad = rssOf(gw);

  // route writes: answered, then served
  const routeAnswer = [];
  const routeServed = [];
  for (let i = 0; i < o.writes; i++) {
    const t = performance.now();
    routeAnswer.push(await call('PUT', `${admin}/api/v1/route`, { name: `new${i}`, paths: [`/new/${i}`], methods: ['GET'], service: 'up' }));
    for (;;) {
      const r = await httpGet(`${proxy}/new/${i}`);
      if (r.status === 200) break;
      if (performance.now() - t > 30_000) throw new Error(`route new${i} not served after 30 s`);
    }
    routeServed.push(performance.now() - t);
  }
  const docAnswer = [];
  for (let i = 0; i < o.writes; i++) docAnswer.push(await call('PUT', `${admin}/api/v1/document/d${i}?collection=notes`, { n: i }));
  for (let i = 0; i < o.moreWrites; i++) await call('PUT', `${admin}/api/v1/route`, { name: `more${i}`, paths: [`/more/${i}`], methods: ['GET'], service: 'up' });
  await sleep(1000);
  const rssWrites = rssOf(gw);
  await stopProcess(proc);
  return {
    routes: size,
    start_ms: startMs,
    requests: loadOut.requests,
    cpu_us_per_req: cpuUsPerReq,
    route_write_answer_ms: { median: median(routeAnswer), p95: percentile(routeAnswer, 95) },
    route_write_served_ms: { median: median(routeServed), p95: percentile(routeServed, 95) },
    document_write_answer_ms: { median: median(docAnswer), p95: percentile(docAnswer, 95) },
    rss_mb: { start: rssStart, after_load: rssLoad, after_writes: rssWrites, writes: 2 * o.writes + o.moreWrites },
  };
}

async function main() {
  const bin = o.bin ?? (await gatewaySnapshot()).bin;
  const upstreamPort = await freePort();
  const upstream = startProcess('upstream', o.loadCpu, process.execPath, ['--input-type=module', '-e', UPSTREAM, String(upstreamPort)]);
  await waitFor('upstream', upstream, async () => (await httpGet(`http://127.0.0.1:${upstreamPort}/`)).status === 200);
  const results = [];
  for (const size of o.sizes) {
    process.stderr.write(`write-path: ${size} routes...\n`);
    results.push(await runSize(bin, size, upstreamPort));
  }
  await stopProcess(upstream);

  const maxRss = (list) => Math.max(...list.map((p) => p.rss_mb));
  console.log(`\n${pad('routes', 7)} ${pad('route write ms (med/p95)', 25)} ${pad('served ms (med/p95)', 20)} ${pad('doc write ms (med/p95)', 23)} ${pad('CPU µs/req', 11)} ${pad('max RSS MB start/load/writes', 29)}`);
  for (const r of results) {
    console.log(
      `${pad(r.routes, 7)} ${pad(`${f(r.route_write_answer_ms.median)} / ${f(r.route_write_answer_ms.p95)}`, 25)} ${pad(`${f(r.route_write_served_ms.median)} / ${f(r.route_write_served_ms.p95)}`, 20)} ${pad(`${f(r.document_write_answer_ms.median)} / ${f(r.document_write_answer_ms.p95)}`, 23)} ${pad(f(r.cpu_us_per_req), 11)} ${pad(`${f(maxRss(r.rss_mb.start))} / ${f(maxRss(r.rss_mb.after_load))} / ${f(maxRss(r.rss_mb.after_writes))}`, 29)}`,
    );
  }
  for (const r of results) console.log(`RSS ${r.routes} routes after ${r.rss_mb.writes} writes: ${r.rss_mb.after_writes.map((p) => `${p.role} ${f(p.rss_mb)} MB`).join(', ')}`);
  fs.mkdirSync(o.out, { recursive: true });
  const file = path.join(o.out, `write-path-${stampOf(new Date())}.json`);
  fs.writeFileSync(file, JSON.stringify({ git: gitHead(), bin, options: o, results }, null, 2));
  console.log(`\nwritten ${path.relative(process.cwd(), file)}`);
  await cleanup();
}

main().catch(async (err) => {
  process.stderr.write(`write-path: ${err.stack ?? err}\n`);
  await cleanup();
  process.exit(1);
});

#!/usr/bin/env node
// CPU cost per proxied request: nginx proxy_pass vs a minimal node:http + undici proxy vs the
// DGate gateway, all forwarding to the same nginx upstream. Manual tool, never run in CI.
// See bench/README.md for what it measures and how to read the output.
//
//   node bench/proxy-vs-nginx.mjs [--rounds 5] [--duration 10] [--warmup 2] [--connections 50]
//                                 [--threads 1] [--proxies nginx,minimal,gateway]
//                                 [--proxy-cpu 0] [--load-cpu 1] [--out bench/results]
//
// Needs: nginx, wrk (apt-get install -y nginx wrk), taskset, getconf; Linux /proc.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
const GATEWAY_BIN = path.join(ROOT, 'dist/src/bin/dgate-server.js');

// ---------------------------------------------------------------- options

const HELP = `Usage: node bench/proxy-vs-nginx.mjs [options]
  --rounds N         interleaved rounds (default 5, at least 1)
  --duration S       seconds per measured wrk run (default 10)
  --warmup S         seconds of wrk against each proxy before its first measured run (default 2)
  --connections N    wrk keep-alive connections (default 50)
  --threads N        wrk threads (default 1)
  --proxies LIST     comma list out of nginx,minimal,gateway (default all three)
  --proxy-cpu N      CPU the proxy under test is pinned to (default 0)
  --load-cpu N       CPU wrk and the upstream are pinned to (default 1)
  --out DIR          where the JSON result goes (default bench/results)
  --keep-tmp         keep the temp dir (configs, logs) for inspection
`;

function parseArgs(argv) {
  const o = {
    rounds: 5,
    duration: 10,
    warmup: 2,
    connections: 50,
    threads: 1,
    proxies: ['nginx', 'minimal', 'gateway'],
    proxyCpu: 0,
    loadCpu: 1,
    out: path.join(BENCH_DIR, 'results'),
    keepTmp: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    const num = (min) => {
      const v = Number(next());
      if (!Number.isFinite(v) || v < min) die(`${a} must be a number >= ${min}`);
      return v;
    };
    switch (a) {
      case '--rounds': o.rounds = Math.floor(num(1)); break;
      case '--duration': o.duration = Math.floor(num(1)); break;
      case '--warmup': o.warmup = Math.floor(num(0)); break;
      case '--connections': o.connections = Math.floor(num(1)); break;
      case '--threads': o.threads = Math.floor(num(1)); break;
      case '--proxy-cpu': o.proxyCpu = Math.floor(num(0)); break;
      case '--load-cpu': o.loadCpu = Math.floor(num(0)); break;
      case '--out': o.out = path.resolve(next()); break;
      case '--keep-tmp': o.keepTmp = true; break;
      case '--proxies': {
        o.proxies = next().split(',').map((s) => s.trim()).filter(Boolean);
        for (const p of o.proxies) if (!['nginx', 'minimal', 'gateway'].includes(p)) die(`unknown proxy ${p}`);
        if (o.proxies.length === 0) die('--proxies is empty');
        break;
      }
      case '-h':
      case '--help':
        process.stdout.write(HELP);
        process.exit(0);
      default:
        die(`unknown option ${a}\n${HELP}`);
    }
  }
  if (o.threads > o.connections) die('--threads must not exceed --connections');
  return o;
}

function die(msg) {
  process.stderr.write(`proxy-vs-nginx: ${msg}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- processes and cleanup

/** every process group we started; killed at the end whatever happens */
const children = new Set();
/** wrk runs in progress (plain children, not in their own group) */
const wrkChildren = new Set();
let tmpDir = null;
let keepTmp = false;

function startProcess(name, cpu, cmd, args, opts = {}) {
  const log = path.join(tmpDir, `${name}.log`);
  const fd = fs.openSync(log, 'a');
  // detached: own process group, so nginx's worker and the gateway's cluster worker go with it
  const child = spawn('taskset', ['-c', String(cpu), cmd, ...args], {
    cwd: opts.cwd ?? tmpDir,
    env: opts.env ?? process.env,
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  fs.closeSync(fd);
  const proc = { name, child, pid: child.pid, log, exited: false, exitCode: null };
  child.on('exit', (code, signal) => {
    proc.exited = true;
    proc.exitCode = signal ? `signal ${signal}` : `code ${code}${code === 0 ? ': a clean exit, e.g. after a SIGTERM/SIGINT from outside' : ''}`;
  });
  children.add(proc);
  return proc;
}

function killGroup(proc, signal) {
  try {
    process.kill(-proc.pid, signal);
  } catch {
    /* already gone */
  }
}

async function stopProcess(proc) {
  if (!children.has(proc)) return;
  killGroup(proc, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (!proc.exited && Date.now() < deadline) await sleep(50);
  killGroup(proc, 'SIGKILL'); // leftovers of the group (workers) if any
  children.delete(proc);
}

function cleanupSync() {
  for (const child of wrkChildren) child.kill('SIGKILL');
  wrkChildren.clear();
  for (const proc of children) killGroup(proc, 'SIGKILL');
  children.clear();
  if (tmpDir && !keepTmp) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    tmpDir = null;
  }
}

async function cleanup() {
  for (const proc of [...children]) await stopProcess(proc);
  cleanupSync();
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\nproxy-vs-nginx: ${sig}, stopping everything\n`);
    cleanupSync();
    process.exit(130);
  });
}

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- /proc accounting

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** utime+stime (fields 14 and 15 of /proc/<pid>/stat) of one process, in clock ticks */
function procTicks(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0; // exited in the meantime
  }
  // the command name (field 2) may contain spaces: fields after it start past the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field N is fields[N - 3]
  return Number(fields[14 - 3]) + Number(fields[15 - 3]);
}

/** pid and all its descendants, from /proc/<pid>/task/<tid>/children */
function descendants(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks = [];
    try {
      tasks = fs.readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      let kids = '';
      try {
        kids = fs.readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.trim().split(/\s+/)) if (k) out.push(Number(k));
    }
  }
  return out;
}

/** CPU ticks of a process tree, with the pids that made it up */
function treeTicks(pid) {
  const pids = descendants(pid);
  let ticks = 0;
  for (const p of pids) ticks += procTicks(p);
  return { ticks, pids };
}

/** busy ticks of one CPU from /proc/stat (everything but idle and iowait) */
function cpuBusyTicks(cpu) {
  const line = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return 0;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest is already inside user)
  return v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] ?? 0);
}

// ---------------------------------------------------------------- helpers

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function httpGet(url, timeoutMs = 2000) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

async function waitFor(what, proc, fn, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    if (proc && proc.exited) throw new Error(`${what}: process exited (${proc.exitCode})\n${tail(proc.log)}`);
    try {
      if (await fn()) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms${last ? ` (${last.message})` : ''}${proc ? `\n${tail(proc.log)}` : ''}`);
}

async function expectOk(name, port) {
  const r = await httpGet(`http://127.0.0.1:${port}/`);
  if (r.status !== 200 || r.body !== 'ok') {
    throw new Error(`${name}: GET / through it answered ${r.status} ${JSON.stringify(r.body.slice(0, 200))}, want 200 "ok"`);
  }
}

function which(cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

function versionOf(cmd, args) {
  // nginx -v prints to stderr, wrk -v prints to stdout and exits 1
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).find(Boolean);
  return text ?? null;
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------- nginx instances

function nginxTempDirectives(dir) {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `  ${k}_temp_path ${path.join(dir, `${k}_temp`)};`)
    .join('\n');
}

function nginxConf(name, body) {
  const dir = path.join(tmpDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const conf = `# generated by bench/proxy-vs-nginx.mjs
worker_processes 1;
daemon off;
master_process on;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  server_tokens off;
  keepalive_timeout 75s;
  # default is 1000: keep wrk's 50 connections open for the whole run (node's server has no limit)
  keepalive_requests 1000000;
${nginxTempDirectives(dir)}
${body}
}
`;
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf);
  return { dir, file };
}

async function startNginx(name, cpu, port, body) {
  const { dir, file } = nginxConf(name, body);
  execFileSync('nginx', ['-t', '-q', '-p', dir, '-c', file, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const proc = startProcess(name, cpu, 'nginx', ['-p', dir, '-c', file, '-e', path.join(dir, 'error.log')]);
  proc.errorLog = path.join(dir, 'error.log');
  await waitFor(name, proc, async () => (await httpGet(`http://127.0.0.1:${port}/`)).status > 0);
  return proc;
}

// ---------------------------------------------------------------- the three proxies and the upstream

async function startUpstream(cpu) {
  const port = await freePort();
  const proc = await startNginx('upstream', cpu, port, `
  server {
    listen 127.0.0.1:${port} default_server;
    location / {
      default_type text/plain;
      add_header X-Upstream bench always;
      add_header Cache-Control no-store always;
      return 200 "ok";
    }
  }`);
  const r = await httpGet(`http://127.0.0.1:${port}/`);
  if (r.status !== 200 || r.body !== 'ok') throw new Error(`upstream answered ${r.status} ${JSON.stringify(r.body)}`);
  return { proc, port };
}

async function startNginxProxy(cpu, upstreamPort) {
  const port = await freePort();
  const proc = await startNginx('nginx', cpu, port, `
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} default_server;
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`);
  await expectOk('nginx', port);
  return { proc, port };
}

async function startMinimal(cpu, upstreamPort) {
  const port = await freePort();
  const proc = startProcess('minimal', cpu, process.execPath, [
    path.join(BENCH_DIR, 'minimal-proxy.mjs'),
    '--port', String(port),
    '--upstream', `http://127.0.0.1:${upstreamPort}`,
  ], { cwd: ROOT });
  await waitFor('minimal', proc, async () => fs.readFileSync(proc.log, 'utf8').includes('listening'));
  await expectOk('minimal', port);
  return { proc, port };
}

/** sha256 over the .js files of a tree (names and contents): identifies the gateway build that ran */
function treeSha256(dir) {
  const h = crypto.createHash('sha256');
  const files = fs.readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.js')).sort();
  for (const f of files) h.update(f).update('\0').update(fs.readFileSync(path.join(dir, f))).update('\0');
  return h.digest('hex');
}

let gatewayDistSha256 = null;

/**
 * Builds dist/ if missing, then runs the gateway from a copy of dist/src in the temp dir (with
 * package.json and a node_modules link beside it), so that a `rm -rf dist && tsc` run by someone
 * else in the same checkout during the benchmark cannot pull files from under the gateway (its
 * cluster worker is started from worker-main.js after the primary is up).
 */
function gatewaySnapshot() {
  if (!fs.existsSync(GATEWAY_BIN)) {
    process.stderr.write(`${path.relative(ROOT, GATEWAY_BIN)} missing: building with npx tsc -p .\n`);
    execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
    if (!fs.existsSync(GATEWAY_BIN)) throw new Error(`build did not produce ${GATEWAY_BIN}`);
  }
  const root = path.join(tmpDir, 'gateway-build');
  fs.mkdirSync(root, { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist/src'), path.join(root, 'dist/src'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(root, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  gatewayDistSha256 = treeSha256(path.join(root, 'dist/src'));
  const bin = path.join(root, path.relative(ROOT, GATEWAY_BIN));
  if (!fs.existsSync(bin)) throw new Error(`copy of dist/ has no ${path.relative(ROOT, GATEWAY_BIN)} (dist/ being rebuilt? retry)`);
  return bin;
}

async function adminPut(adminPort, p, body) {
  const res = await fetch(`http://127.0.0.1:${adminPort}${p}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`gateway admin PUT ${p} answered ${res.status}: ${text.slice(0, 300)}`);
}

async function startGatewayProxy(cpu, upstreamPort) {
  const bin = gatewaySnapshot();
  const port = await freePort();
  const adminPort = await freePort();
  const dir = path.join(tmpDir, 'gateway');
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, `# generated by bench/proxy-vs-nginx.mjs
log_level: error
storage:
  type: memory
proxy:
  host: 127.0.0.1
  port: ${port}
  workers: 1
admin:
  host: 127.0.0.1
  port: ${adminPort}
`);
  const proc = startProcess('gateway', cpu, process.execPath, [bin, '--config', config], { cwd: dir });
  await waitFor('gateway /readyz', proc, async () => (await httpGet(`http://127.0.0.1:${adminPort}/readyz`)).status === 200, 30_000);
  await adminPut(adminPort, '/api/v1/service', { name: 'up', urls: [`http://127.0.0.1:${upstreamPort}`] });
  await adminPut(adminPort, '/api/v1/route', { name: 'pass', paths: ['/*'], methods: ['*'], service: 'up' });
  // the change reaches the worker asynchronously: give it a moment before insisting
  let lastErr = null;
  for (let i = 0; i < 50; i++) {
    try {
      await expectOk('gateway', port);
      lastErr = null;
      break;
    } catch (err) {
      lastErr = err;
      await sleep(100);
    }
  }
  if (lastErr) throw new Error(`${lastErr.message}\n${tail(proc.log)}`);
  return { proc, port, adminPort };
}

// ---------------------------------------------------------------- wrk

function parseWrk(out) {
  const num = (re) => {
    const m = out.match(re);
    return m ? Number(m[1]) : null;
  };
  const m = out.match(/(\d+) requests in ([\d.]+)(us|ms|s|m)\b/);
  const unit = m ? { us: 1e-6, ms: 1e-3, s: 1, m: 60 }[m[3]] : null;
  const sock = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const latency = {};
  for (const p of ['50', '75', '90', '99']) {
    const lm = out.match(new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`));
    if (lm) latency[`p${p}_ms`] = Number(lm[1]) * { us: 1e-3, ms: 1, s: 1000 }[lm[2]];
  }
  return {
    requests: m ? Number(m[1]) : null,
    seconds: m ? Number(m[2]) * unit : null,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) ?? 0,
    socketErrors: sock
      ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    latency,
  };
}

function runWrk(opts, port, seconds) {
  return new Promise((resolve, reject) => {
    const args = [
      '-c', String(opts.loadCpu), 'wrk',
      `-t${opts.threads}`, `-c${opts.connections}`, `-d${seconds}s`, '--latency',
      `http://127.0.0.1:${port}/`,
    ];
    const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    wrkChildren.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.on('exit', (code) => {
      wrkChildren.delete(child);
      clearTimeout(killer);
      if (code !== 0) reject(new Error(`wrk exited ${code}: ${err || out}`));
      else resolve({ raw: out, ...parseWrk(out) });
    });
  });
}

// ---------------------------------------------------------------- one measured run

async function measure(opts, name, target, upstream) {
  if (target.proc.exited) throw new Error(`${name} died before its run (${target.proc.exitCode})\n${tail(target.proc.log)}`);
  const before = treeTicks(target.proc.pid);
  const upBefore = treeTicks(upstream.proc.pid).ticks;
  const cpuBefore = cpuBusyTicks(opts.proxyCpu);
  const t0 = process.hrtime.bigint();
  const wrk = await runWrk(opts, target.port, opts.duration);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuAfter = cpuBusyTicks(opts.proxyCpu);
  const upAfter = treeTicks(upstream.proc.pid).ticks;
  const after = treeTicks(target.proc.pid);
  if (target.proc.exited) throw new Error(`${name} died during its run (${target.proc.exitCode})\n${tail(target.proc.log)}`);

  const se = wrk.socketErrors;
  const errors = wrk.non2xx + se.connect + se.read + se.write + se.timeout;
  if (wrk.requests === null || wrk.rps === null) throw new Error(`${name}: could not parse wrk output:\n${wrk.raw}`);
  if (errors > 0 || wrk.requests === 0) {
    throw new Error(
      `${name}: wrk saw errors (non-2xx ${wrk.non2xx}, socket connect ${se.connect} read ${se.read} write ${se.write} timeout ${se.timeout}); run rejected\n${wrk.raw}\n--- ${name} log ---\n${tail(target.proc.log)}`,
    );
  }
  const ticks = after.ticks - before.ticks;
  const cpuSeconds = ticks / CLK_TCK;
  const proxyCpuOthers = Math.max(0, (cpuAfter - cpuBefore - ticks) / CLK_TCK);
  return {
    proxy: name,
    requests: wrk.requests,
    wrk_seconds: wrk.seconds,
    rps: wrk.rps,
    cpu_seconds: cpuSeconds,
    cpu_us_per_req: (cpuSeconds * 1e6) / wrk.requests,
    // share of one core the proxy used over the run (1.0 = it saturated its CPU)
    proxy_core_util: cpuSeconds / wall,
    // CPU time on the proxy's core spent by anything else (other users of the machine, irqs)
    others_on_proxy_cpu_pct: (100 * proxyCpuOthers) / wall,
    upstream_cpu_us_per_req: ((upAfter - upBefore) / CLK_TCK * 1e6) / wrk.requests,
    latency_ms: wrk.latency,
    pids: after.pids,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

// ---------------------------------------------------------------- output

const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pad = (s, n) => String(s).padStart(n);

function printRun(round, r) {
  console.log(
    `  round ${round} ${r.proxy.padEnd(8)} ${pad(f(r.rps, 0), 8)} req/s  ${pad(f(r.cpu_us_per_req, 1), 7)} µs CPU/req  ` +
      `core ${f(r.proxy_core_util * 100, 0)}%  others on its core ${f(r.others_on_proxy_cpu_pct, 0)}%  ` +
      `p50 ${f(r.latency_ms.p50_ms, 2)} ms  p99 ${f(r.latency_ms.p99_ms, 2)} ms`,
  );
}

function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN;
}

function summarize(opts, rounds) {
  const byProxy = {};
  for (const p of opts.proxies) {
    const runs = rounds.map((r) => r.runs[p]).filter(Boolean);
    byProxy[p] = {
      runs: runs.length,
      median_rps: median(runs.map((r) => r.rps)),
      median_cpu_us_per_req: median(runs.map((r) => r.cpu_us_per_req)),
      min_cpu_us_per_req: Math.min(...runs.map((r) => r.cpu_us_per_req)),
      max_cpu_us_per_req: Math.max(...runs.map((r) => r.cpu_us_per_req)),
      median_core_util: median(runs.map((r) => r.proxy_core_util)),
      median_p99_ms: median(runs.map((r) => r.latency_ms.p99_ms)),
      median_others_on_proxy_cpu_pct: median(runs.map((r) => r.others_on_proxy_cpu_pct)),
    };
  }
  // efficiency ratio a/b = CPU per request of a divided by that of b, paired within each round
  const pairs = [
    ['nginx', 'gateway'],
    ['nginx', 'minimal'],
    ['minimal', 'gateway'],
  ].filter(([a, b]) => opts.proxies.includes(a) && opts.proxies.includes(b));
  const perRound = rounds.map((r) => {
    const o = { round: r.round };
    for (const [a, b] of pairs) o[`${a}/${b}`] = ratio(r.runs[a].cpu_us_per_req, r.runs[b].cpu_us_per_req);
    return o;
  });
  const ratios = {};
  for (const [a, b] of pairs) {
    const k = `${a}/${b}`;
    ratios[k] = {
      median_of_rounds: median(perRound.map((x) => x[k])),
      of_medians: ratio(byProxy[a].median_cpu_us_per_req, byProxy[b].median_cpu_us_per_req),
      per_round: perRound.map((x) => x[k]),
    };
  }
  return { byProxy, ratios };
}

function printSummary(opts, rounds, summary) {
  console.log('\nPer round: CPU µs per request (req/s)');
  const head = ['round', ...opts.proxies, ...Object.keys(summary.ratios)];
  console.log(head.map((h, i) => (i === 0 ? h.padEnd(6) : pad(h, 19))).join(''));
  for (const r of rounds) {
    const cells = [String(r.round).padEnd(6)];
    for (const p of opts.proxies) cells.push(pad(`${f(r.runs[p].cpu_us_per_req)} (${f(r.runs[p].rps, 0)})`, 19));
    for (const k of Object.keys(summary.ratios)) cells.push(pad(f(summary.ratios[k].per_round[r.round - 1], 3), 19));
    console.log(cells.join(''));
  }
  console.log('\nMedians');
  console.log(`${'proxy'.padEnd(9)}${pad('req/s', 10)}${pad('CPU µs/req', 12)}${pad('min..max', 16)}${pad('core use', 10)}${pad('p99 ms', 9)}`);
  for (const p of opts.proxies) {
    const s = summary.byProxy[p];
    console.log(
      `${p.padEnd(9)}${pad(f(s.median_rps, 0), 10)}${pad(f(s.median_cpu_us_per_req), 12)}` +
        `${pad(`${f(s.min_cpu_us_per_req)}..${f(s.max_cpu_us_per_req)}`, 16)}${pad(f(s.median_core_util * 100, 0) + '%', 10)}${pad(f(s.median_p99_ms, 2), 9)}`,
    );
  }
  if (Object.keys(summary.ratios).length === 0) return;
  console.log('\nEfficiency ratios (CPU per request of the first / of the second; 1.0 = as efficient)');
  for (const [k, v] of Object.entries(summary.ratios)) {
    const target = k === 'nginx/gateway' ? `  (target >= 0.35: ${v.median_of_rounds >= 0.35 ? 'met' : 'NOT met'})` : '';
    console.log(`  ${k.padEnd(16)} median of rounds ${f(v.median_of_rounds, 3)}   ratio of medians ${f(v.of_medians, 3)}${target}`);
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  keepTmp = opts.keepTmp;
  for (const tool of ['nginx', 'wrk', 'taskset', 'getconf']) {
    if (!which(tool)) die(`${tool} not found (apt-get update && apt-get install -y nginx wrk)`);
  }
  if (!fs.existsSync('/proc/self/task')) die('needs Linux /proc');
  const ncpu = os.availableParallelism();
  if (opts.proxyCpu >= ncpu || opts.loadCpu >= ncpu) die(`only ${ncpu} CPUs: pick --proxy-cpu/--load-cpu below that`);

  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgate-bench-'));
  const startedAt = new Date();
  const meta = {
    date: startedAt.toISOString(),
    command: `node bench/proxy-vs-nginx.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    options: { ...opts, out: path.relative(ROOT, opts.out) || '.' },
    nproc: ncpu,
    cpu_model: os.cpus()[0]?.model ?? null,
    kernel: os.release(),
    node: process.version,
    nginx: versionOf('nginx', ['-v']),
    wrk: versionOf('wrk', ['-v']),
    clk_tck: CLK_TCK,
    loadavg_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
    // HEAD only: the checkout may hold uncommitted work; gateway_dist_sha256 names the build that ran
    git_head: (() => {
      try {
        return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      } catch {
        return null;
      }
    })(),
  };
  console.log(`proxy-vs-nginx: ${opts.rounds} rounds x ${opts.duration}s, wrk -t${opts.threads} -c${opts.connections}, proxies on CPU ${opts.proxyCpu}, wrk+upstream on CPU ${opts.loadCpu}`);
  console.log(`  ${meta.nproc} CPUs (${meta.cpu_model}), ${meta.node}, ${meta.nginx}, loadavg ${meta.loadavg_start.join(' ')}`);

  const upstream = await startUpstream(opts.loadCpu);
  console.log(`  upstream nginx on 127.0.0.1:${upstream.port}`);
  const targets = {};
  const starters = { nginx: startNginxProxy, minimal: startMinimal, gateway: startGatewayProxy };
  for (const p of opts.proxies) {
    targets[p] = await starters[p](opts.proxyCpu, upstream.port);
    console.log(`  ${p.padEnd(8)} on 127.0.0.1:${targets[p].port} (pid ${targets[p].proc.pid}), GET / -> 200 "ok"`);
  }

  const warmedUp = new Set();
  const rounds = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const k = (round - 1) % opts.proxies.length;
    const order = [...opts.proxies.slice(k), ...opts.proxies.slice(0, k)];
    const runs = {};
    for (const p of order) {
      if (!warmedUp.has(p) && opts.warmup > 0) {
        await runWrk(opts, targets[p].port, opts.warmup);
        warmedUp.add(p);
      }
      runs[p] = await measure(opts, p, targets[p], upstream);
      printRun(round, runs[p]);
    }
    rounds.push({ round, order, runs });
  }

  const summary = summarize(opts, rounds);
  printSummary(opts, rounds, summary);

  meta.gateway_dist_sha256 = gatewayDistSha256;
  meta.loadavg_end = os.loadavg().map((x) => Math.round(x * 100) / 100);
  meta.finished = new Date().toISOString();
  fs.mkdirSync(opts.out, { recursive: true });
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const outFile = path.join(opts.out, `${stamp}.json`);
  fs.writeFileSync(outFile, JSON.stringify({ meta, summary, rounds }, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), outFile)}`);
  if (opts.keepTmp) console.log(`temp dir kept: ${tmpDir}`);
  await cleanup();
}

main().catch(async (err) => {
  process.stderr.write(`\nproxy-vs-nginx: FAILED: ${err && err.stack ? err.stack : err}\n`);
  if (tmpDir && !keepTmp) process.stderr.write('(temp dir removed; rerun with --keep-tmp to inspect logs)\n');
  await cleanup();
  process.exit(1);
});

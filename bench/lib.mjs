// Shared helpers of the hand-run benchmarks in bench/ (proxy-vs-nginx.mjs, modules.mjs): child
// processes in their own process groups with cleanup, CPU accounting from /proc, nginx instances
// from generated configs, the gateway run from a snapshot of dist/src, wrk runs and one measured
// run. Not part of the gateway and never run in CI. See bench/README.md.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, '..');
export const GATEWAY_BIN = path.join(ROOT, 'dist/src/bin/dgate-server.js');
export const BUN_BIN = path.join(ROOT, 'node_modules/bun/bin/bun.exe');

/** name of the running benchmark script (message prefix, generated-config comments) */
let label = 'bench';

export function die(msg) {
  process.stderr.write(`${label}: ${msg}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- processes and cleanup

/** every process group we started; killed at the end whatever happens */
const children = new Set();
/** wrk runs in progress (plain children, not in their own group) */
const wrkChildren = new Set();
let tmpDir = null;
let keepTmp = false;

/**
 * Names the script (`proxy-vs-nginx`, `modules`) and makes sure every process group it starts is
 * killed and the temp dir removed on exit and on SIGINT/SIGTERM/SIGHUP.
 */
export function installCleanup(scriptLabel) {
  label = scriptLabel;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\n${label}: ${sig}, stopping everything\n`);
      cleanupSync();
      process.exit(130);
    });
  }
}

/** creates the temp dir everything of this run goes to (configs, logs, the gateway snapshot) */
export function makeTmpDir(keep) {
  keepTmp = keep;
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgate-bench-'));
  return tmpDir;
}

export function getTmpDir() {
  return tmpDir;
}

/** whether the temp dir survives the run (--keep-tmp) */
export function keepsTmp() {
  return keepTmp;
}

export function startProcess(name, cpu, cmd, args, opts = {}) {
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

export function killGroup(proc, signal) {
  try {
    process.kill(-proc.pid, signal);
  } catch {
    /* already gone */
  }
}

export async function stopProcess(proc) {
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

export async function cleanup() {
  for (const proc of [...children]) await stopProcess(proc);
  cleanupSync();
}

export function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- /proc accounting

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

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
export function descendants(pid) {
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
export function treeTicks(pid) {
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

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function httpGet(url, timeoutMs = 2000) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

export async function waitFor(what, proc, fn, timeoutMs = 15_000) {
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

/** GET <path> on 127.0.0.1:<port> must answer 200 "ok" (what the bench upstream answers) */
export async function expectOk(name, port, urlPath = '/') {
  const r = await httpGet(`http://127.0.0.1:${port}${urlPath}`);
  if (r.status !== 200 || r.body !== 'ok') {
    throw new Error(`${name}: GET ${urlPath} through it answered ${r.status} ${JSON.stringify(r.body.slice(0, 200))}, want 200 "ok"`);
  }
  return r;
}

export function which(cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

export function versionOf(cmd, args) {
  // nginx -v prints to stderr, wrk -v prints to stdout and exits 1
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).find(Boolean);
  return text ?? null;
}

/** git HEAD of the checkout (the checkout may hold uncommitted work), or null */
export function gitHead() {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** What every result file says about the run: command, options, machine, tool versions, load. */
export function runMeta(script, opts, startedAt, extra = {}) {
  return {
    date: startedAt.toISOString(),
    command: `node bench/${script}.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    options: { ...opts, out: path.relative(ROOT, opts.out) || '.' },
    ...extra,
    nproc: os.availableParallelism(),
    cpu_model: os.cpus()[0]?.model ?? null,
    kernel: os.release(),
    node: process.version,
    nginx: versionOf('nginx', ['-v']),
    wrk: versionOf('wrk', ['-v']),
    clk_tck: CLK_TCK,
    loadavg_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
    // HEAD only: the checkout may hold uncommitted work
    git_head: gitHead(),
  };
}

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN;
}

export const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
export const pad = (s, n) => String(s).padStart(n);

/** bench/results file name part for a start time: 2026-11-29T22-45-50Z */
export function stampOf(date) {
  return date.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
}

// ---------------------------------------------------------------- nginx instances

function nginxTempDirectives(dir) {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `  ${k}_temp_path ${path.join(dir, `${k}_temp`)};`)
    .join('\n');
}

/** `main`: extra main-context directives (e.g. load_module), placed first */
function nginxConf(name, body, main = '') {
  const dir = path.join(tmpDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const conf = `# generated by bench/${label}.mjs
${main ? `${main}\n` : ''}worker_processes 1;
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

/** the directory an nginx instance's files go to (write extra files such as njs scripts there first) */
export function nginxDir(name) {
  const dir = path.join(tmpDir, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export async function startNginx(name, cpu, port, body, main = '') {
  const { dir, file } = nginxConf(name, body, main);
  execFileSync('nginx', ['-t', '-q', '-p', dir, '-c', file, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const proc = startProcess(name, cpu, 'nginx', ['-p', dir, '-c', file, '-e', path.join(dir, 'error.log')]);
  proc.errorLog = path.join(dir, 'error.log');
  await waitFor(name, proc, async () => (await httpGet(`http://127.0.0.1:${port}/`)).status > 0);
  return proc;
}

/** the upstream every benchmark forwards to: nginx answering 200 "ok" with two extra headers */
export async function startUpstream(cpu) {
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

// ---------------------------------------------------------------- the gateway

/** sha256 over the .js files of a tree (names and contents): identifies the gateway build that ran */
function treeSha256(dir) {
  const h = crypto.createHash('sha256');
  const files = fs.readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.js')).sort();
  for (const f of files) h.update(f).update('\0').update(fs.readFileSync(path.join(dir, f))).update('\0');
  return h.digest('hex');
}

/**
 * Runs the gateway from a copy of dist/src in the temp dir (with package.json and a
 * node_modules link beside it), so that a `rm -rf dist && tsc` run by someone else in the same
 * checkout during the benchmark cannot pull files from under the gateway (its cluster worker is
 * started from worker-main.js after the primary is up). Returns the copy's bin and sha256.
 *
 * When dist/src/bin/dgate-server.js is missing, `ifMissing` decides:
 * - `build` (default): `npx tsc -p .` in the checkout, then copy;
 * - `wait`: wait up to 3 minutes for it to appear (someone else is rebuilding dist/), then build
 *   with `npx tsc -p . --outDir <tmp>/tsc-out` into the temp dir, never touching dist/.
 * `need`: further files (relative to dist/src) the copy must contain, else it is retried.
 */
export async function gatewaySnapshot({ ifMissing = 'build', need = [] } = {}) {
  let distSrc = path.join(ROOT, 'dist/src');
  if (!fs.existsSync(GATEWAY_BIN)) {
    if (ifMissing === 'build') {
      process.stderr.write(`${path.relative(ROOT, GATEWAY_BIN)} missing: building with npx tsc -p .\n`);
      execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
      if (!fs.existsSync(GATEWAY_BIN)) throw new Error(`build did not produce ${GATEWAY_BIN}`);
    } else {
      process.stderr.write(`${path.relative(ROOT, GATEWAY_BIN)} missing: waiting for dist/ to be rebuilt\n`);
      const deadline = Date.now() + 180_000;
      while (!fs.existsSync(GATEWAY_BIN) && Date.now() < deadline) await sleep(2000);
      if (!fs.existsSync(GATEWAY_BIN)) {
        const out = path.join(tmpDir, 'tsc-out');
        process.stderr.write(`still missing: building with npx tsc -p . --outDir ${out}\n`);
        // type errors in files others are editing do not stop tsc from emitting
        spawnSync('npx', ['tsc', '-p', '.', '--outDir', out], { cwd: ROOT, stdio: 'inherit' });
        distSrc = path.join(out, 'src');
      } else {
        await sleep(5000); // let the build that made it appear finish writing
      }
    }
  }
  const root = path.join(tmpDir, 'gateway-build');
  const rel = path.relative(path.join(ROOT, 'dist/src'), GATEWAY_BIN);
  for (let attempt = 1; ; attempt++) {
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(root, { recursive: true });
    fs.cpSync(distSrc, path.join(root, 'dist/src'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(root, 'package.json'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
    const missing = [rel, ...need].filter((p) => !fs.existsSync(path.join(root, 'dist/src', p)));
    if (missing.length === 0) break;
    if (ifMissing === 'build' || attempt >= 10) throw new Error(`copy of dist/ has no ${missing.map((m) => `dist/src/${m}`).join(', ')} (dist/ being rebuilt? retry)`);
    await sleep(3000);
  }
  return { bin: path.join(root, 'dist/src', rel), sha256: treeSha256(path.join(root, 'dist/src')) };
}

export async function adminPut(adminPort, p, body) {
  const res = await fetch(`http://127.0.0.1:${adminPort}${p}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`gateway admin PUT ${p} answered ${res.status}: ${text.slice(0, 300)}`);
}

/**
 * Starts the gateway (`bin` from gatewaySnapshot) pinned to `cpu` with one proxy worker,
 * log_level error and memory storage; resolves once GET /readyz on the admin port is 200.
 * `name` names its log and config dir; `nodeArgs` go before the script (e.g. --cpu-prof, which
 * the cluster worker inherits); `runtime` 'bun' runs it on the installed Bun; `top` and `proxy`
 * are extra YAML lines at the top level and under `proxy:` (each ending with a newline, `proxy`
 * indented by two spaces).
 */
export async function startGateway(cpu, bin, { name = 'gateway', nodeArgs = [], runtime = 'node', exec = runtime === 'bun' ? BUN_BIN : process.execPath, args = ['--runtime', runtime], top = '', proxy = '' } = {}) {
  const port = await freePort();
  const adminPort = await freePort();
  const dir = path.join(tmpDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, `# generated by bench/${label}.mjs
log_level: error
${top}storage:
  type: memory
proxy:
  host: 127.0.0.1
  port: ${port}
  workers: 1
${proxy}admin:
  host: 127.0.0.1
  port: ${adminPort}
`);
  const proc = startProcess(name, cpu, exec, [...nodeArgs, bin, '--config', config, ...args], { cwd: dir });
  await waitFor(`${name} /readyz`, proc, async () => (await httpGet(`http://127.0.0.1:${adminPort}/readyz`)).status === 200, 30_000);
  return { proc, port, adminPort, dir };
}

/** retries `check` for up to 5 s: admin changes reach the worker asynchronously */
export async function eventually(proc, check) {
  let lastErr = null;
  for (let i = 0; i < 50; i++) {
    try {
      return await check();
    } catch (err) {
      lastErr = err;
      await sleep(100);
    }
  }
  throw new Error(`${lastErr.message}\n${tail(proc.log)}`);
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

/** `taskset -c <loadCpu> wrk -t -c -d --latency http://127.0.0.1:<port><urlPath>` (keep-alive) */
export function runWrk(opts, port, seconds, urlPath = '/') {
  return new Promise((resolve, reject) => {
    const args = [
      '-c', String(opts.loadCpu), 'wrk',
      `-t${opts.threads}`, `-c${opts.connections}`, `-d${seconds}s`, '--latency',
      `http://127.0.0.1:${port}${urlPath}`,
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

/** wrk's errors (non-2xx, socket errors) fail loudly, with wrk's output and the process's log */
export function rejectWrkErrors(name, wrk, proc) {
  const se = wrk.socketErrors;
  const errors = wrk.non2xx + se.connect + se.read + se.write + se.timeout;
  if (wrk.requests === null || wrk.rps === null) throw new Error(`${name}: could not parse wrk output:\n${wrk.raw}`);
  if (errors > 0 || wrk.requests === 0) {
    throw new Error(
      `${name}: wrk saw errors (non-2xx ${wrk.non2xx}, socket connect ${se.connect} read ${se.read} write ${se.write} timeout ${se.timeout}); run rejected\n${wrk.raw}\n--- ${name} log ---\n${tail(proc.log)}`,
    );
  }
}

// ---------------------------------------------------------------- one measured run

/**
 * One wrk run against `target` ({proc, port, path?}) with the CPU time of target's process tree
 * (and of the upstream's) read from /proc around it.
 */
export async function measure(opts, name, target, upstream) {
  if (target.proc.exited) throw new Error(`${name} died before its run (${target.proc.exitCode})\n${tail(target.proc.log)}`);
  const before = treeTicks(target.proc.pid);
  const upBefore = treeTicks(upstream.proc.pid).ticks;
  const cpuBefore = cpuBusyTicks(opts.proxyCpu);
  const t0 = process.hrtime.bigint();
  const wrk = await runWrk(opts, target.port, opts.duration, target.path ?? '/');
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuAfter = cpuBusyTicks(opts.proxyCpu);
  const upAfter = treeTicks(upstream.proc.pid).ticks;
  const after = treeTicks(target.proc.pid);
  if (target.proc.exited) throw new Error(`${name} died during its run (${target.proc.exitCode})\n${tail(target.proc.log)}`);

  rejectWrkErrors(name, wrk, target.proc);
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

// ---------------------------------------------------------------- options

/**
 * Reads command-line flags into `o`: `handlers` maps a flag to `(o, { next, num }) => void`
 * (`next()` the flag's value, `num(min)` it as an integer >= min); -h/--help prints `help` and
 * exits; an unknown flag or a missing or bad value stops with a message.
 */
export function readArgs(argv, help, o, handlers) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    const num = (min = 0) => {
      const v = Number(next());
      if (!Number.isFinite(v) || v < min) die(`${a} must be a number >= ${min}`);
      return Math.floor(v);
    };
    if (a === '-h' || a === '--help') {
      process.stdout.write(help);
      process.exit(0);
    } else if (Object.hasOwn(handlers, a)) handlers[a](o, { next, num });
    else die(`unknown option ${a}\n${help}`);
  }
  return o;
}

/**
 * The options every benchmark takes (rounds, durations, wrk settings, CPU pinning, output),
 * plus a script's own: `extra` maps a flag to `(o, { next, num }) => void`.
 */
export function parseBenchArgs(argv, { help, defaults = {}, extra = {}, minRounds = 1 }) {
  const o = {
    rounds: 5,
    duration: 10,
    warmup: 2,
    connections: 50,
    threads: 1,
    proxyCpu: 0,
    loadCpu: 1,
    out: path.join(BENCH_DIR, 'results'),
    keepTmp: false,
    ...defaults,
  };
  const common = {
    '--rounds': (o, { num }) => (o.rounds = num(minRounds)),
    '--duration': (o, { num }) => (o.duration = num(1)),
    '--warmup': (o, { num }) => (o.warmup = num(0)),
    '--connections': (o, { num }) => (o.connections = num(1)),
    '--threads': (o, { num }) => (o.threads = num(1)),
    '--proxy-cpu': (o, { num }) => (o.proxyCpu = num(0)),
    '--load-cpu': (o, { num }) => (o.loadCpu = num(0)),
    '--out': (o, { next }) => (o.out = path.resolve(next())),
    '--keep-tmp': (o) => (o.keepTmp = true),
  };
  readArgs(argv, help, o, { ...common, ...extra });
  if (o.threads > o.connections) die('--threads must not exceed --connections');
  return o;
}

/** A comma list of names out of `allowed`, for options such as --proxies. */
export function listOption(flag, value, allowed) {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!allowed.includes(n)) die(`${flag}: unknown ${n} (one of ${allowed.join(', ')})`);
  if (names.length === 0) die(`${flag} is empty`);
  return names;
}

/** Medians and extremes of one proxy's (or scenario's) measured runs across rounds. */
export function summarizeRuns(rounds, name) {
  const runs = rounds.map((r) => r.runs[name]).filter(Boolean);
  return {
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

/**
 * init_resources of `size` routes (`/r/<i>` and `/r/<i>/{rest}`, GET) on one service `up` at the
 * given upstream port, and a collection `notes`: the large state of the write-path and memory benches.
 */
export function manyRoutesResources(size, upstreamPort) {
  return {
    services: [{ name: 'up', namespace: 'default', urls: [`http://127.0.0.1:${upstreamPort}`] }],
    collections: [{ name: 'notes', namespace: 'default' }],
    routes: Array.from({ length: size }, (_, i) => ({ name: `r${i}`, namespace: 'default', paths: [`/r/${i}`, `/r/${i}/{rest}`], methods: ['GET'], service: 'up' })),
  };
}

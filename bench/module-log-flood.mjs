#!/usr/bin/env node
// A module that floods its log: what it costs the node. Starts dgate-server with a module that logs
// in a tight loop from a timer in every proxy worker, and reports, before and during the flood:
// the latency of another route, the memory (RSS) of the primary (which keeps the lines) and of the
// workers, the lines the module logged, kept and dropped. Manual tool, never run in CI.
//
//   node bench/module-log-flood.mjs [--workers 2] [--seconds 10] [--runtime node|bun] [--buffer-lines 1000] [--rate-limit 200]
//
// --buffer-lines 0 runs the same flood with module lines not collected (the cost of the console
// calls alone). Needs a built tree (npx tsc -p .).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { GATEWAY_BIN, freePort } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const WORKERS = Number(opt('--workers', '2'));
const SECONDS = Number(opt('--seconds', '10'));
const RUNTIME = opt('--runtime', 'node');
const BUFFER = Number(opt('--buffer-lines', '1000'));
const RATE = Number(opt('--rate-limit', '200'));
const HOST = 'flood.bench';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgate-flood-'));
const proxyPort = await freePort();
const adminPort = await freePort();
fs.writeFileSync(
  path.join(dir, 'config.yaml'),
  `log_level: warn
storage: { type: memory }
proxy:
  host: 127.0.0.1
  port: ${proxyPort}
  workers: ${WORKERS}
  console_log_level: error
  module_logs: { buffer_lines: ${BUFFER}, rate_limit: ${RATE} }
admin: { host: 127.0.0.1, port: ${adminPort} }
`,
);
// started on its runtime directly (no relaunch), so that its pid is the primary's
const { installedBun } = await import('../dist/src/platform/choose.js');
const exe = RUNTIME === 'bun' ? installedBun() : process.execPath;
if (exe === null) throw new Error('bun is not installed');
const server = spawn(exe, [GATEWAY_BIN, '--config', path.join(dir, 'config.yaml'), '--runtime', RUNTIME], { stdio: ['ignore', 'inherit', 'inherit'] });
process.on('exit', () => server.kill('SIGTERM'));

function call(port, method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: { connection: 'close', ...headers }, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
const admin = (method, p, body) => call(adminPort, method, p, body);
const proxied = (p) => call(proxyPort, 'GET', p, undefined, { host: HOST });

for (let i = 0; ; i++) {
  try {
    if ((await admin('GET', '/readyz')).status === 200) break;
  } catch {}
  if (i > 400) throw new Error('gateway not ready');
  await new Promise((r) => setTimeout(r, 50));
}

const b64 = (s) => Buffer.from(s).toString('base64');
const put = async (kind, body) => {
  const r = await admin('PUT', `/api/v1/${kind}`, { namespace: 'bench', ...body });
  if (r.status !== 201) throw new Error(`PUT ${kind}: ${r.status} ${r.text}`);
};
await admin('PUT', '/api/v1/namespace', { name: 'bench' });
await put('domain', { name: 'd', patterns: [HOST] });
await put('module', {
  name: 'flood',
  payload: b64(`let n = 0;\nlet started = false;\nexport function requestHandler(ctx: any) {\n  if (ctx.pathParam('what') === 'start' && !started) { started = true; setInterval(() => { for (let i = 0; i < 1000; i++) console.log('flood line number', n++, { worker: 'x' }); }, 0); }\n  ctx.response().json({ n, pid: 0 });\n}\n`),
});
await put('module', { name: 'calm', payload: b64(`export function requestHandler(ctx: any) { ctx.response().json({ calm: true }); }\n`) });
await put('route', { name: 'flood', paths: ['/flood/{what}'], methods: ['GET'], modules: ['flood'] });
await put('route', { name: 'calm', paths: ['/calm'], methods: ['GET'], modules: ['calm'] });

const childPids = () => fs.readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
const rssMb = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function latencies(ms) {
  const out = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    const r = await proxied('/calm');
    if (r.status !== 200) throw new Error(`calm answered ${r.status}`);
    out.push(performance.now() - t);
  }
  return out;
}
const fmt = (xs) => `p50 ${pct(xs, 50).toFixed(2)} ms  p99 ${pct(xs, 99).toFixed(2)} ms  (${xs.length} requests)`;

// the module's own process may be the primary (workers 0): its RSS then includes the flood's garbage
const procs = WORKERS === 0 ? [] : childPids();
console.log(`runtime ${RUNTIME}, workers ${WORKERS}, buffer_lines ${BUFFER}, rate_limit ${RATE}/s, ${SECONDS} s of flood`);
const before = await latencies(2000);
console.log(`before:  /calm ${fmt(before)}; RSS primary ${rssMb(server.pid).toFixed(0)} MB, workers ${procs.map((p) => rssMb(p).toFixed(0)).join('/')} MB`);

// start the flood in every worker: fresh connections until each one has answered /flood/start
for (let i = 0; i < 50; i++) await proxied('/flood/start');
const samples = [];
const sampler = setInterval(() => samples.push(rssMb(server.pid)), 250);
const during = await latencies(SECONDS * 1000);
clearInterval(sampler);
const workerRss = procs.map((p) => rssMb(p).toFixed(0)).join('/');
const logged = [];
for (let i = 0; i < 20; i++) logged.push(JSON.parse((await proxied('/flood/n')).text).n);
const page = JSON.parse((await admin('GET', '/api/v1/logs?module=flood&limit=10000')).text);
const dropped = page.dropped.find((d) => d.module === 'flood')?.dropped ?? 0;
console.log(`during:  /calm ${fmt(during)}; RSS primary max ${Math.max(...samples).toFixed(0)} MB (last ${samples.at(-1).toFixed(0)}), workers ${workerRss} MB`);
console.log(`module:  a worker logged up to ${Math.max(...logged)} lines (${Math.round(Math.max(...logged) / SECONDS)}/s); node kept ${page.count}, dropped ${dropped}`);
server.kill('SIGTERM');
fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);

// Latency of a normal client while 200 slow-header clients (slowhttptest, slowloris mode) hold
// connections to the proxy: p50/p99 quiet, then under attack, and the p99 ratio (target <= 2).
// Run by hand, never in CI: node bench/slow-clients.mjs [--runtime node|bun] [--seconds 7] [--rounds 3] [--clients 200]
// Needs slowhttptest (Debian package) and a built dist/ (npx tsc -p .).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({ options: { runtime: { type: 'string', default: 'node' }, seconds: { type: 'string', default: '7' }, clients: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' } } });
const seconds = Number(opt.seconds);
const rounds = Number(opt.rounds);
const children = [];
const cleanup = () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

const freePort = () => new Promise((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });

// upstream: a child process so that its work does not share this process's event loop
const upPort = await freePort();
const up = spawn(process.execPath, ['-e', `require('http').createServer((q,s)=>{q.resume();s.end('ok')}).listen(${upPort},'127.0.0.1')`], { stdio: 'ignore' });
children.push(up);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgate-slow-clients-'));
const proxyPort = await freePort();
const adminPort = await freePort();
fs.writeFileSync(path.join(dir, 'config.yaml'), `log_level: error
storage: { type: memory }
proxy:
  host: 127.0.0.1
  port: ${proxyPort}
  workers: 1
  init_resources:
    namespaces: [{ name: default }]
    services: [{ name: up, namespace: default, urls: ["http://127.0.0.1:${upPort}"] }]
    routes: [{ name: all, namespace: default, paths: ["/*"], methods: ["*"], service: up }]
admin: { host: 127.0.0.1, port: ${adminPort} }
`);
const runtimeExe = opt.runtime === 'bun' ? path.join(ROOT, 'node_modules/.bin/bun') : process.execPath;
const gw = spawn(runtimeExe, [path.join(ROOT, 'dist/src/bin/dgate-server.js'), '--config', path.join(dir, 'config.yaml'), '--runtime', opt.runtime], { cwd: dir, stdio: 'ignore' });
children.push(gw);

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = () => new Promise((resolve, reject) => {
  const t0 = process.hrtime.bigint();
  http.get({ host: '127.0.0.1', port: proxyPort, path: '/normal', agent }, (res) => {
    res.resume();
    res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
  }).on('error', reject);
});
for (let i = 0; ; i++) {
  try { if ((await get()).status === 200) break; } catch { /* not up yet */ }
  if (i > 200) throw new Error('gateway did not start');
  await new Promise((r) => setTimeout(r, 100));
}

/** one client, one request at a time, for `s` seconds */
async function measure(s) {
  const ms = [];
  let failed = 0;
  const end = Date.now() + s * 1000;
  while (Date.now() < end) {
    try {
      const r = await get();
      if (r.status === 200) ms.push(r.ms);
      else failed++;
    } catch { failed++; }
  }
  ms.sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
  return { ms, requests: ms.length, failed, p50: q(0.5), p99: q(0.99) };
}

/** one attack: slowhttptest started, measured while its connections are held, then waited for */
async function underAttack(round) {
  const report = path.join(dir, `attack-${round}`);
  const attack = spawn('slowhttptest', ['-H', '-c', opt.clients, '-r', opt.clients, '-i', '1', '-l', String(seconds + 8), '-p', '3', '-g', '-o', report, '-u', `http://127.0.0.1:${proxyPort}/attack`], { stdio: 'ignore' });
  children.push(attack);
  await new Promise((r) => setTimeout(r, 1500)); // let the attack connect
  const r = await measure(seconds);
  await new Promise((done) => (attack.exitCode !== null ? done() : attack.on('exit', done)));
  const csv = fs.readFileSync(`${report}.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  return { ...r, held: Math.max(...csv.map((row) => row[3])), closedAfter: csv.length - 1 };
}

const merge = (list) => {
  const ms = list.flatMap((r) => r.ms).sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
  return { requests: ms.length, failed: list.reduce((n, r) => n + r.failed, 0), p50: q(0.5), p99: q(0.99) };
};

await measure(2); // warm-up
const quietRuns = [];
const attackRuns = [];
// quiet and attacked runs alternate, so that other load on a shared machine weighs on both alike
for (let round = 0; round < rounds; round++) {
  quietRuns.push(await measure(seconds));
  attackRuns.push(await underAttack(round));
}
const quiet = merge(quietRuns);
const loaded = merge(attackRuns);
const fmt = (r) => `${r.requests} requests, ${r.failed} failed, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms`;
console.log(`runtime ${opt.runtime}, ${rounds} rounds of ${seconds} s each way, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (shared machine: figures vary with other load)`);
console.log(`quiet:            ${fmt(quiet)}`);
console.log(`${opt.clients} slow clients: ${fmt(loaded)}`);
for (const [i, r] of attackRuns.entries()) console.log(`  round ${i + 1}: quiet p99 ${quietRuns[i].p99.toFixed(3)} ms, attacked p99 ${r.p99.toFixed(3)} ms; slow connections held at most ${r.held}, all closed after ${r.closedAfter} s`);
console.log(`p99 ratio attack/quiet: ${(loaded.p99 / quiet.p99).toFixed(2)} (target <= 2)`);
cleanup();
fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);

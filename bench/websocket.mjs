// WebSocket tunnels through the gateway, by hand (never in CI): echo round trips of small
// messages on one connection, and 1 MB binary round trips, through dgate-server (one proxy
// worker, on the runtime given) and directly to the upstream for comparison. The upstream is a
// `ws` echo server in a child process of its own; the client runs in this process.
//
//   node bench/websocket.mjs [--runtime node|bun] [--seconds 5] [--big 50]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const runtime = opt('runtime', 'node');
const seconds = Number(opt('seconds', '5'));
const bigCount = Number(opt('big', '50'));

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

async function until(what, fn, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const upPort = await freePort();
const upstream = spawn(process.execPath, ['-e', `const { WebSocketServer } = require(${JSON.stringify(path.join(ROOT, 'node_modules/ws'))}); const s = new WebSocketServer({ host: '127.0.0.1', port: ${upPort}, maxPayload: 1 << 26 }); s.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d, { binary })));`], { stdio: 'inherit' });
children.push(upstream);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgate-ws-bench-'));
const proxyPort = await freePort();
const adminPort = await freePort();
fs.writeFileSync(path.join(dir, 'config.yaml'), `log_level: warn\nstorage: { type: memory }\nproxy: { host: 127.0.0.1, port: ${proxyPort}, workers: 1 }\nadmin: { host: 127.0.0.1, port: ${adminPort} }\n`);
const gateway = spawn(process.execPath, [path.join(ROOT, 'dist/src/bin/dgate-server.js'), '--config', path.join(dir, 'config.yaml'), '--runtime', runtime], { cwd: dir, stdio: 'inherit' });
children.push(gateway);
await until('the gateway', async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).ok);
const put = (kind, body) => fetch(`http://127.0.0.1:${adminPort}/api/v1/${kind}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
await put('service', { name: 's', urls: [`http://127.0.0.1:${upPort}`] });
await put('route', { name: 'r', paths: ['/*'], methods: ['GET'], service: 's' });

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: 1 << 26, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
const roundTrip = (ws, data) => new Promise((resolve) => { ws.once('message', resolve); ws.send(data); });

async function run(name, url) {
  const ws = await open(url);
  const small = Buffer.alloc(64, 1);
  for (let i = 0; i < 200; i++) await roundTrip(ws, small); // warm-up
  const rtts = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const t = process.hrtime.bigint();
    await roundTrip(ws, small);
    rtts.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  rtts.sort((a, b) => a - b);
  const big = Buffer.alloc(1 << 20, 7);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < bigCount; i++) await roundTrip(ws, big);
  const bigSec = Number(process.hrtime.bigint() - t0) / 1e9;
  ws.close();
  console.log(`${name.padEnd(22)} 64 B echo: ${(rtts.length / seconds).toFixed(0).padStart(6)} round trips/s, median ${rtts[rtts.length >> 1].toFixed(0)} µs, p99 ${rtts[Math.floor(rtts.length * 0.99)].toFixed(0)} µs | 1 MB echo: ${((2 * bigCount) / bigSec).toFixed(0)} MB/s (both ways)`);
}

await run('direct', `ws://127.0.0.1:${upPort}/`);
await run(`gateway (${runtime})`, `ws://127.0.0.1:${proxyPort}/`);
process.exit(0);

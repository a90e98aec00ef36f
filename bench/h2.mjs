#!/usr/bin/env node
// Requests per second and gateway CPU per request for the same route over HTTP/1.1 (h2load --h1),
// h2c (prior knowledge) and h2 over TLS (ALPN), on Node and on Bun, with an nginx upstream; plus
// an h2c route to an http2Only upstream (nghttpd-less: a node:http2 server). Manual tool, never run in CI.
//
//   node bench/h2.mjs [--requests 20000] [--clients 20] [--streams 10] [--runtimes node,bun]
//                     [--proxy-cpu 0] [--load-cpu 1]
//
// Needs: h2load (nghttp2-client), nginx, openssl, taskset; Linux /proc. Build first (npx tsc).
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  CLK_TCK, adminPut, cleanup, die, freePort, httpGet, installCleanup, makeTmpDir, startProcess, startUpstream, stopProcess, treeTicks, waitFor,
} from './lib.mjs';
import { installedBun } from '../dist/src/platform/choose.js';

const run = promisify(execFile);
installCleanup('h2');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const REQUESTS = Number(opt('requests', 20000));
const CLIENTS = Number(opt('clients', 20));
const STREAMS = Number(opt('streams', 10));
const RUNTIMES = opt('runtimes', 'node,bun').split(',');
const PROXY_CPU = opt('proxy-cpu', '0');
const LOAD_CPU = opt('load-cpu', '1');
const GATEWAY_BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../dist/src/bin/dgate-server.js');
if (!fs.existsSync(GATEWAY_BIN)) die('build first: npx tsc -p tsconfig.json');

const tmp = makeTmpDir(false);
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', path.join(tmp, 'key.pem'), '-out', path.join(tmp, 'cert.pem'), '-subj', '/CN=localhost'], { stdio: 'ignore' });

/** an h2c upstream answering "ok", as a child process (its CPU is not the gateway's) */
async function startH2Upstream() {
  const port = await freePort();
  const src = path.join(tmp, 'h2-upstream.mjs');
  fs.writeFileSync(src, `import http2 from 'node:http2';
const s = http2.createServer();
s.on('stream', (st) => { st.respond({ ':status': 200, 'content-type': 'text/plain' }); st.end('ok'); });
s.listen(${port}, '127.0.0.1');
`);
  const proc = startProcess('h2-upstream', LOAD_CPU, process.execPath, [src]);
  await waitFor('h2 upstream', proc, async () => {
    await run('curl', ['-sf', '--http2-prior-knowledge', `http://127.0.0.1:${port}/`]);
    return true;
  });
  return { port };
}

async function startGateway(runtime, exec, h2 = true) {
  const port = await freePort();
  const tlsPort = await freePort();
  const adminPort = await freePort();
  const dir = path.join(tmp, `gateway-${runtime}${h2 ? '' : '-h1'}`);
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, `log_level: error
storage: { type: memory }
proxy:
  host: 127.0.0.1
  port: ${port}
  workers: 0
  enable_http2: ${h2}
  enable_h2c: ${h2}
  http2: { max_concurrent_streams: 100 }
  tls: { port: ${tlsPort}, cert_file: ${path.join(tmp, 'cert.pem')}, key_file: ${path.join(tmp, 'key.pem')} }
admin: { host: 127.0.0.1, port: ${adminPort} }
`);
  const proc = startProcess(`gateway-${runtime}${h2 ? '' : '-h1'}`, PROXY_CPU, exec, [GATEWAY_BIN, '--config', config, '--runtime', runtime], { cwd: dir });
  await waitFor(`gateway ${runtime}`, proc, async () => (await httpGet(`http://127.0.0.1:${adminPort}/readyz`)).status === 200, 30_000);
  return { proc, port, tlsPort, adminPort };
}

function parse(stdout) {
  const done = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(stdout);
  const rps = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout);
  return { done: Number(done?.[1] ?? 0), ok: Number(done?.[2] ?? 0), failed: Number(done?.[3] ?? 0) + Number(done?.[4] ?? 0), rps: Number(rps?.[1] ?? 0) };
}

async function measure(gw, label, url, extra) {
  // warm-up, then the measured run
  await run('taskset', ['-c', LOAD_CPU, 'h2load', '-n', String(Math.min(2000, REQUESTS)), '-c', String(CLIENTS), ...extra, url]);
  const before = treeTicks(gw.proc.pid).ticks;
  const { stdout } = await run('taskset', ['-c', LOAD_CPU, 'h2load', '-n', String(REQUESTS), '-c', String(CLIENTS), ...extra, url], { maxBuffer: 1 << 24 });
  const ticks = treeTicks(gw.proc.pid).ticks - before;
  const r = parse(stdout);
  const cpuUs = r.ok > 0 ? (ticks / CLK_TCK / r.ok) * 1e6 : NaN;
  return { label, ...r, cpuUsPerRequest: Math.round(cpuUs * 10) / 10 };
}

try {
  const upstream = await startUpstream(LOAD_CPU);
  const h2up = await startH2Upstream();
  const results = [];
  for (const runtime of RUNTIMES) {
    const exec = runtime === 'bun' ? installedBun() : process.execPath;
    if (exec === null) {
      console.log(`skipping bun: not installed`);
      continue;
    }
    // baseline: the same route with HTTP/2 off (the runtime's own HTTP/1.1 listener)
    const base = await startGateway(runtime, exec, false);
    await adminPut(base.adminPort, '/api/v1/service', { name: 'up', urls: [`http://127.0.0.1:${upstream.port}`] });
    await adminPut(base.adminPort, '/api/v1/route', { name: 'r', paths: ['/bench'], methods: ['GET'], service: 'up' });
    const b = await measure(base, 'HTTP/1.1, HTTP/2 off', `http://127.0.0.1:${base.port}/bench`, ['--h1']);
    results.push({ runtime, ...b });
    console.log(`${runtime.padEnd(5)} ${b.label.padEnd(36)} ${String(Math.round(b.rps)).padStart(7)} req/s  ${String(b.cpuUsPerRequest).padStart(6)} µs CPU/req  ${b.ok}/${b.done} ok, ${b.failed} failed`);
    await stopProcess(base.proc);
    const gw = await startGateway(runtime, exec);

    await adminPut(gw.adminPort, '/api/v1/service', { name: 'up', urls: [`http://127.0.0.1:${upstream.port}`] });
    await adminPut(gw.adminPort, '/api/v1/route', { name: 'r', paths: ['/bench'], methods: ['GET'], service: 'up' });
    await adminPut(gw.adminPort, '/api/v1/service', { name: 'up2', urls: [`http://127.0.0.1:${h2up.port}`], http2Only: true });
    await adminPut(gw.adminPort, '/api/v1/route', { name: 'r2', paths: ['/bench2'], methods: ['GET'], service: 'up2' });
    const plain = `http://127.0.0.1:${gw.port}`;
    const tls = `https://127.0.0.1:${gw.tlsPort}`;
    for (const [label, url, extra] of [
      ['HTTP/1.1 over TLS (ALPN http/1.1)', `${tls}/bench`, ['--h1']],
      ['HTTP/1.1, h2c on the same port', `${plain}/bench`, ['--h1']],
      [`h2c, ${STREAMS} streams/conn`, `${plain}/bench`, ['-m', String(STREAMS)]],
      [`h2 over TLS, ${STREAMS} streams/conn`, `${tls}/bench`, ['-m', String(STREAMS)]],
      [`h2c -> http2Only h2c upstream`, `${plain}/bench2`, ['-m', String(STREAMS)]],
    ]) {
      const r = await measure(gw, label, url, extra);
      results.push({ runtime, ...r });
      console.log(`${runtime.padEnd(5)} ${label.padEnd(36)} ${String(Math.round(r.rps)).padStart(7)} req/s  ${String(r.cpuUsPerRequest).padStart(6)} µs CPU/req  ${r.ok}/${r.done} ok, ${r.failed} failed`);
    }
  }
  console.log(`\n${REQUESTS} requests, ${CLIENTS} connections; gateway pinned to CPU ${PROXY_CPU}, h2load and upstreams to CPU ${LOAD_CPU}`);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await cleanup();
}

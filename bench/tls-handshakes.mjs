#!/usr/bin/env node
/**
 * TLS handshakes per second, and server CPU per handshake, through proxy.tls: every request on
 * a new connection with a full handshake (`openssl s_time -new -www /`), the answer coming
 * from an nginx upstream. Side by side: nginx as a TLS reverse proxy (the baseline), the
 * gateway on Node and the gateway on Bun, each with one proxy process pinned to one CPU and the
 * same certificate. Run by hand: node bench/tls-handshakes.mjs [--help].
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, CLK_TCK, adminPut, cleanup, die, f, freePort, gatewaySnapshot, gitHead, installCleanup, listOption, makeTmpDir,
  median, pad, parseBenchArgs, startNginx, startProcess, startUpstream, stopProcess, tail, treeTicks, versionOf, waitFor,
} from './lib.mjs';

const TARGETS = ['nginx', 'gateway', 'gateway-bun'];
const HELP = `Usage: node bench/tls-handshakes.mjs [options]

Options:
  --targets LIST   comma list of ${TARGETS.join(', ')} (default: all)
  --rounds N       measured runs per target, medians reported (default 3)
  --duration S     seconds per run (default 10)
  --clients N      parallel openssl s_time processes (default 2)
  --key ec|rsa     certificate key: ECDSA P-256 (default) or RSA 2048
  --proxy-cpu N    CPU the TLS server runs on (default 0); clients and the upstream use --load-cpu (default 1)
  --keep-tmp       keep the temp dir (configs, logs)
`;

installCleanup('tls-handshakes');
const o = parseBenchArgs(process.argv.slice(2), {
  help: HELP,
  defaults: { rounds: 3, duration: 10, targets: TARGETS, clients: 2, key: 'ec' },
  extra: {
    '--targets': (opts, { next }) => (opts.targets = listOption('--targets', next(), TARGETS)),
    '--clients': (opts, { num }) => (opts.clients = num(1)),
    '--key': (opts, { next }) => {
      opts.key = next();
      if (opts.key !== 'ec' && opts.key !== 'rsa') die('--key: ec or rsa');
    },
  },
});
const tmp = makeTmpDir(o.keepTmp);

// one certificate for every server
const certFile = path.join(tmp, 'server.crt');
const keyFile = path.join(tmp, 'server.key');
const keyArgs = o.key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-days', '1', '-keyout', keyFile, '-out', certFile, '-subj', '/CN=localhost'], { stdio: 'ignore' });

const upstream = await startUpstream(o.loadCpu);

async function startTarget(name) {
  if (name === 'nginx') {
    const port = await freePort();
    const proc = await startNginx('nginx-tls', o.proxyCpu, port, `
  upstream app { server 127.0.0.1:${upstream.port}; keepalive 64; }
  server {
    listen 127.0.0.1:${port} ssl default_server;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }`); // its readiness probe is plain HTTP, which a TLS port answers (400): enough to know it listens
    return { proc, port };
  }
  const { bin } = await gatewaySnapshot();
  const runtime = name === 'gateway-bun' ? 'bun' : 'node';
  const port = await freePort();
  const tlsPort = await freePort();
  const adminPort = await freePort();
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, `log_level: error
storage: { type: memory }
proxy:
  host: 127.0.0.1
  port: ${port}
  workers: 1
  tls: { port: ${tlsPort}, cert_file: ${certFile}, key_file: ${keyFile} }
admin: { host: 127.0.0.1, port: ${adminPort} }
`);
  const proc = startProcess(name, o.proxyCpu, process.execPath, [bin, '--config', config, '--runtime', runtime], { cwd: dir });
  await waitFor(`${name} /readyz`, proc, async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status === 200, 30_000);
  await adminPut(adminPort, '/api/v1/service', { name: 'up', urls: [`http://127.0.0.1:${upstream.port}`] });
  await adminPut(adminPort, '/api/v1/route', { name: 'all', paths: ['/*'], methods: ['*'], service: 'up' });
  return { proc, port: tlsPort };
}

/** one s_time client for `seconds`: connections made (each a full handshake plus GET /) */
function sTime(port, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(o.loadCpu), 'openssl', 's_time', '-connect', `127.0.0.1:${port}`, '-new', '-time', String(seconds), '-www', '/'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => {
      const m = /(\d+) connections in [\d.]+s;/.exec(out);
      if (m === null) reject(new Error(`s_time: ${out.slice(-500)}`));
      else resolve(Number(m[1]));
    });
  });
}

async function measure(target) {
  // a first connection (and so any lazy set-up) before the clock starts
  const probe = await sTime(target.port, 1);
  if (probe === 0) throw new Error(`no TLS connection to ${target.proc.name}\n${tail(target.proc.log)}`);
  const before = treeTicks(target.proc.pid).ticks;
  const started = process.hrtime.bigint();
  const counts = await Promise.all(Array.from({ length: o.clients }, () => sTime(target.port, o.duration)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const ticks = treeTicks(target.proc.pid).ticks - before;
  const connections = counts.reduce((a, b) => a + b, 0);
  return { connections, per_second: connections / seconds, cpu_us_per_handshake: connections > 0 ? ((ticks / CLK_TCK) * 1e6) / connections : NaN };
}

const results = {};
for (const name of o.targets) {
  const target = await startTarget(name);
  const runs = [];
  for (let r = 0; r < o.rounds; r++) {
    runs.push(await measure(target));
    process.stderr.write(`${name} round ${r + 1}: ${f(runs.at(-1).per_second)} handshakes/s, ${f(runs.at(-1).cpu_us_per_handshake)} µs CPU each\n`);
  }
  await stopProcess(target.proc);
  results[name] = { runs, median_per_second: median(runs.map((x) => x.per_second)), median_cpu_us_per_handshake: median(runs.map((x) => x.cpu_us_per_handshake)) };
}

const stamp = new Date().toISOString();
process.stdout.write(`\nTLS handshakes (new connection + GET / per request), key ${o.key}, ${o.clients} s_time clients, ${o.rounds} x ${o.duration}s, server on CPU ${o.proxyCpu}\n`);
process.stdout.write(`${'target'.padEnd(12)} ${pad('handshakes/s', 13)} ${pad('CPU µs/hs', 10)}\n`);
for (const [name, r] of Object.entries(results)) {
  process.stdout.write(`${name.padEnd(12)} ${pad(f(r.median_per_second, 0), 13)} ${pad(f(r.median_cpu_us_per_handshake, 0), 10)}\n`);
}
fs.mkdirSync(o.out, { recursive: true });
const file = path.join(o.out, `tls-handshakes-${stamp.replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, `${JSON.stringify({ stamp, git: gitHead(), openssl: versionOf('openssl', ['version']), nginx: versionOf('nginx', ['-v']), node: process.version, options: { ...o, out: undefined }, results }, null, 2)}\n`);
process.stdout.write(`results: ${path.relative(ROOT, file)}\n`);
await cleanup();

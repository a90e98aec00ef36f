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
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BENCH_DIR, ROOT, die, installCleanup, makeTmpDir, getTmpDir, keepsTmp, startProcess, cleanup, freePort, waitFor,
  expectOk, which, median, ratio, f, pad, stampOf, startNginx, startUpstream, gatewaySnapshot,
  startGateway, adminPut, eventually, runWrk, measure,
  parseBenchArgs, listOption, runMeta,
  summarizeRuns,
} from './lib.mjs';

// ---------------------------------------------------------------- options

const HELP = `Usage: node bench/proxy-vs-nginx.mjs [options]
  --rounds N         interleaved rounds (default 5, at least 1)
  --duration S       seconds per measured wrk run (default 10)
  --warmup S         seconds of wrk against each proxy before its first measured run (default 2)
  --connections N    wrk keep-alive connections (default 50)
  --threads N        wrk threads (default 1)
  --proxies LIST     comma list out of nginx,minimal,gateway,minimal-bun,gateway-bun,gateway-bun-node-http,gateway-node24
                     (gateway-bun-node-http: the gateway on Bun with proxy.bun_listener: node_http)
                     (default nginx,minimal,gateway)
  --node24 PATH      node executable for gateway-node24 (e.g. from \`npx -p node@24 which node\`)
  --proxy-cpu N      CPU the proxy under test is pinned to (default 0)
  --load-cpu N       CPU wrk and the upstream are pinned to (default 1)
  --out DIR          where the JSON result goes (default bench/results)
  --keep-tmp         keep the temp dir (configs, logs) for inspection
  --nginx-default    nginx's default proxy_pass (HTTP/1.0, a new upstream connection per request)
                     instead of the keep-alive upstream block
`;

const PROXIES = ['nginx', 'minimal', 'gateway', 'minimal-bun', 'gateway-bun', 'gateway-bun-node-http', 'gateway-node24'];
let node24 = null;

function parseArgs(argv) {
  return parseBenchArgs(argv, {
    help: HELP,
    defaults: { proxies: ['nginx', 'minimal', 'gateway'], nginxDefault: false },
    extra: {
      '--proxies': (o, { next }) => (o.proxies = listOption('--proxies', next(), PROXIES)),
      '--node24': (o, { next }) => (o.node24 = next()),
      '--nginx-default': (o) => (o.nginxDefault = true),
    },
  });
}

installCleanup('proxy-vs-nginx');

// ---------------------------------------------------------------- the three proxies and the upstream

async function startNginxProxy(cpu, upstreamPort, nginxDefault) {
  const port = await freePort();
  const proc = await startNginx('nginx', cpu, port, nginxDefault ? `
  server {
    listen 127.0.0.1:${port} default_server;
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};
    }
  }` : `
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

let gatewayDistSha256 = null;

async function startMinimalBun(cpu, upstreamPort) {
  const port = await freePort();
  const proc = startProcess('minimal-bun', cpu, bunExecutable(), [
    path.join(BENCH_DIR, 'minimal-bun-proxy.mjs'),
    '--port', String(port),
    '--upstream', `http://127.0.0.1:${upstreamPort}`,
  ], { cwd: ROOT });
  await waitFor('minimal-bun', proc, async () => fs.readFileSync(proc.log, 'utf8').includes('listening'));
  await expectOk('minimal-bun', port);
  return { proc, port };
}

/** Bun from the project's bun package */
function bunExecutable() {
  const exe = path.join(ROOT, 'node_modules/bun/bin/bun.exe');
  if (!fs.existsSync(exe)) throw new Error(`${exe} missing: npm ci installs the bun package`);
  return exe;
}

/**
 * the gateway on a runtime: `gateway` = Node (this script's node), `gateway-bun`,
 * `gateway-bun-node-http` (Bun's node:http on the plain port), `gateway-node24` (--node24 PATH)
 */
async function startGatewayProxy(cpu, upstreamPort, _nginxDefault, name = 'gateway') {
  const { bin, sha256 } = await gatewaySnapshot();
  gatewayDistSha256 = sha256;
  const onBun = name.startsWith('gateway-bun');
  const exec = onBun ? bunExecutable() : name === 'gateway-node24' ? node24 : process.execPath;
  const proxy = name === 'gateway-bun-node-http' ? '  bun_listener: node_http\n' : '';
  const gw = await startGateway(cpu, bin, { name, exec, args: ['--runtime', onBun ? 'bun' : 'node'], proxy });
  await adminPut(gw.adminPort, '/api/v1/service', { name: 'up', urls: [`http://127.0.0.1:${upstreamPort}`] });
  await adminPut(gw.adminPort, '/api/v1/route', { name: 'pass', paths: ['/*'], methods: ['*'], service: 'up' });
  // the change reaches the worker asynchronously: give it a moment before insisting
  await eventually(gw.proc, () => expectOk(name, gw.port));
  return { proc: gw.proc, port: gw.port, adminPort: gw.adminPort };
}

// ---------------------------------------------------------------- output

function printRun(round, r) {
  console.log(
    `  round ${round} ${r.proxy.padEnd(8)} ${pad(f(r.rps, 0), 8)} req/s  ${pad(f(r.cpu_us_per_req, 1), 7)} µs CPU/req  ` +
      `core ${f(r.proxy_core_util * 100, 0)}%  others on its core ${f(r.others_on_proxy_cpu_pct, 0)}%  ` +
      `p50 ${f(r.latency_ms.p50_ms, 2)} ms  p99 ${f(r.latency_ms.p99_ms, 2)} ms`,
  );
}

function summarize(opts, rounds) {
  const byProxy = {};
  for (const p of opts.proxies) {
    byProxy[p] = summarizeRuns(rounds, p);
  }
  // efficiency ratio a/b = CPU per request of a divided by that of b, paired within each round
  const pairs = [
    ['nginx', 'gateway'],
    ['nginx', 'minimal'],
    ['minimal', 'gateway'],
    ['nginx', 'gateway-bun'],
    ['nginx', 'minimal-bun'],
    ['minimal-bun', 'gateway-bun'],
    ['nginx', 'gateway-node24'],
    ['gateway-bun-node-http', 'gateway-bun'],
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
  node24 = opts.node24 ?? null;
  if (opts.proxies.includes('gateway-node24') && node24 === null) die('gateway-node24 needs --node24 PATH');
  for (const tool of ['nginx', 'wrk', 'taskset', 'getconf']) {
    if (!which(tool)) die(`${tool} not found (apt-get update && apt-get install -y nginx wrk)`);
  }
  if (!fs.existsSync('/proc/self/task')) die('needs Linux /proc');
  const ncpu = os.availableParallelism();
  if (opts.proxyCpu >= ncpu || opts.loadCpu >= ncpu) die(`only ${ncpu} CPUs: pick --proxy-cpu/--load-cpu below that`);

  makeTmpDir(opts.keepTmp);
  const startedAt = new Date();
  // git_head only: the checkout may hold uncommitted work; gateway_dist_sha256 names the build that ran
  const meta = runMeta('proxy-vs-nginx', opts, startedAt);
  console.log(`proxy-vs-nginx: ${opts.rounds} rounds x ${opts.duration}s, wrk -t${opts.threads} -c${opts.connections}, proxies on CPU ${opts.proxyCpu}, wrk+upstream on CPU ${opts.loadCpu}`);
  console.log(`  ${meta.nproc} CPUs (${meta.cpu_model}), ${meta.node}, ${meta.nginx}, loadavg ${meta.loadavg_start.join(' ')}`);

  const upstream = await startUpstream(opts.loadCpu);
  console.log(`  upstream nginx on 127.0.0.1:${upstream.port}`);
  const targets = {};
  const starters = {
    nginx: startNginxProxy,
    minimal: startMinimal,
    gateway: startGatewayProxy,
    'minimal-bun': startMinimalBun,
    'gateway-bun': (cpu, up, d) => startGatewayProxy(cpu, up, d, 'gateway-bun'),
    'gateway-bun-node-http': (cpu, up, d) => startGatewayProxy(cpu, up, d, 'gateway-bun-node-http'),
    'gateway-node24': (cpu, up, d) => startGatewayProxy(cpu, up, d, 'gateway-node24'),
  };
  for (const p of opts.proxies) {
    targets[p] = await starters[p](opts.proxyCpu, upstream.port, opts.nginxDefault);
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
  const outFile = path.join(opts.out, `${stampOf(startedAt)}.json`);
  fs.writeFileSync(outFile, JSON.stringify({ meta, summary, rounds }, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), outFile)}`);
  if (opts.keepTmp) console.log(`temp dir kept: ${getTmpDir()}`);
  await cleanup();
}

main().catch(async (err) => {
  process.stderr.write(`\nproxy-vs-nginx: FAILED: ${err && err.stack ? err.stack : err}\n`);
  if (getTmpDir() && !keepsTmp()) process.stderr.write('(temp dir removed; rerun with --keep-tmp to inspect logs)\n');
  await cleanup();
  process.exit(1);
});

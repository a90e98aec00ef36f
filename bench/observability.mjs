#!/usr/bin/env node
// CPU cost of metrics and stats on the passthrough route: the same gateway config with metrics and
// stats on (the default) and with `disable_metrics: true`, optionally a third with the access log
// (`proxy.access_log: {enabled: true, sample_rate: 1}`), each its own gateway process pinned to the
// proxy CPU, measured in interleaved rounds against the same nginx upstream. Manual tool, never run
// in CI. See bench/README.md.
//
//   node bench/observability.mjs [--rounds 5] [--duration 10] [--warmup 2] [--connections 50]
//                                [--runtime node|bun] [--access-log] [--proxy-cpu 0] [--load-cpu 1]
//
// Needs: nginx, wrk, taskset, getconf; Linux /proc.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  die, installCleanup, makeTmpDir, getTmpDir, keepsTmp, cleanup, stopProcess, httpGet, expectOk, which,
  ratio, f, pad, stampOf, startUpstream, gatewaySnapshot, adminPut, eventually, runWrk, rejectWrkErrors,
  measure, parseBenchArgs, listOption, summarizeRuns, startGateway, runMeta,
} from './lib.mjs';

installCleanup('observability');

/** the configs compared; `yaml` is added at the top level of the gateway's config file */
const CONFIGS = {
  disabled: { yaml: 'disable_metrics: true\n', proxy: '', what: 'disable_metrics: true (nothing subscribes to the request path)' },
  metrics: { yaml: '', proxy: '', what: 'metrics and stats on (the default)' },
  control: { yaml: 'disable_metrics: true\n', proxy: '', what: 'a second disable_metrics: true gateway (--control: the noise floor of the comparison)' },
  'access-log': { yaml: '', proxy: '  access_log: { enabled: true, sample_rate: 1 }\n', what: 'metrics and stats on, plus proxy.access_log {enabled: true, sample_rate: 1}' },
};
const PATH = '/x';

const HELP = `Usage: node bench/observability.mjs [options]
  --rounds N         interleaved rounds (default 5)
  --duration S       seconds per measured wrk run (default 10)
  --warmup S         seconds of wrk against each gateway before its first measured run (default 2)
  --connections N    wrk keep-alive connections (default 50)
  --threads N        wrk threads (default 1)
  --runtime R        node (default) or bun: the runtime the gateways run on
  --access-log       also measure a third gateway with proxy.access_log {enabled: true, sample_rate: 1}
  --control          also measure a second disabled gateway: how far apart two identical configs come out
  --proxy-cpu N      CPU the gateways are pinned to (default 0)
  --load-cpu N       CPU wrk and the upstream are pinned to (default 1)
  --out DIR          where the JSON result goes (default bench/results)
  --keep-tmp         keep the temp dir (configs, logs)
`;

function parseArgs(argv) {
  return parseBenchArgs(argv, {
    help: HELP,
    defaults: { runtime: 'node', accessLog: false, control: false },
    extra: {
      '--runtime': (o, { next }) => (o.runtime = listOption('--runtime', next(), ['node', 'bun'])[0]),
      '--access-log': (o) => (o.accessLog = true),
      '--control': (o) => (o.control = true),
    },
  });
}

async function configure(gw, upstreamPort, metricsOn) {
  await adminPut(gw.adminPort, '/api/v1/service', { name: 'up', urls: [`http://127.0.0.1:${upstreamPort}`] });
  await adminPut(gw.adminPort, '/api/v1/route', { name: 'pass', paths: ['/*'], methods: ['*'], service: 'up' });
  await eventually(gw.proc, () => expectOk(`${gw.proc.name} ${PATH}`, gw.port, PATH));
  // the switch does what it says: /metrics counts the request, or is 404
  const m = await httpGet(`http://127.0.0.1:${gw.adminPort}/metrics`);
  if (metricsOn && (m.status !== 200 || !/dgate_requests_total\{[^}]*route="pass"/.test(m.body))) throw new Error(`${gw.proc.name}: /metrics answered ${m.status} without the request counted`);
  if (!metricsOn && m.status !== 404) throw new Error(`${gw.proc.name}: /metrics answered ${m.status}, want 404 (disable_metrics)`);
}

function printRun(round, name, r) {
  console.log(`  round ${round} ${name.padEnd(10)} ${pad(f(r.cpu_us_per_req), 7)} µs CPU/req  ${pad(f(r.rps, 0), 7)} req/s  core ${f(r.proxy_core_util, 2)}  others on CPU ${f(r.others_on_proxy_cpu_pct, 0)}%  p99 ${f(r.latency_ms.p99_ms, 2)} ms`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  for (const tool of ['nginx', 'wrk', 'taskset', 'getconf']) if (!which(tool)) die(`${tool} not found (apt-get update && apt-get install -y nginx wrk)`);
  const ncpu = os.availableParallelism();
  if (opts.proxyCpu >= ncpu || opts.loadCpu >= ncpu) die(`only ${ncpu} CPUs: pick --proxy-cpu/--load-cpu below that`);
  const names = ['disabled', 'metrics', ...(opts.accessLog ? ['access-log'] : []), ...(opts.control ? ['control'] : [])];
  makeTmpDir(opts.keepTmp);
  const startedAt = new Date();
  const meta = runMeta('observability', opts, startedAt, { configs: Object.fromEntries(names.map((n) => [n, CONFIGS[n].what])) });

  console.log(`observability: ${opts.rounds} rounds x ${opts.duration}s, wrk -t${opts.threads} -c${opts.connections}, gateways (${opts.runtime}) on CPU ${opts.proxyCpu}, wrk+upstream on CPU ${opts.loadCpu}, loadavg ${meta.loadavg_start.join(' ')}`);
  const upstream = await startUpstream(opts.loadCpu);
  const snap = await gatewaySnapshot({ ifMissing: 'wait', need: ['workers/worker-main.js', 'observability/process-observer.js'] });
  meta.gateway_dist_sha256 = snap.sha256;
  const targets = {};
  for (const n of names) {
    targets[n] = { ...(await startGateway(opts.proxyCpu, snap.bin, { name: `gateway-${n}`, runtime: opts.runtime, top: CONFIGS[n].yaml, proxy: CONFIGS[n].proxy })), path: PATH };
    await configure(targets[n], upstream.port, n !== 'disabled' && n !== 'control');
    console.log(`  ${n}: ${CONFIGS[n].what}; 127.0.0.1:${targets[n].port} (pid ${targets[n].proc.pid})`);
  }

  const rounds = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const k = (round - 1) % names.length;
    const order = [...names.slice(k), ...names.slice(0, k)];
    const runs = {};
    for (const n of order) {
      const t = targets[n];
      if (round === 1 && opts.warmup > 0) rejectWrkErrors(`${n} warm-up`, await runWrk(opts, t.port, opts.warmup, PATH), t.proc);
      const { proxy, ...r } = await measure(opts, n, t, upstream);
      runs[n] = r;
      printRun(round, n, r);
    }
    rounds.push({ round, order, runs, ratio_metrics_vs_disabled: runs.metrics.cpu_us_per_req / runs.disabled.cpu_us_per_req });
  }

  const summary = Object.fromEntries(names.map((n) => [n, summarizeRuns(rounds, n)]));
  const base = summary.disabled.median_cpu_us_per_req;
  console.log('\nmedian CPU µs per request (min..max), ratio to disabled:');
  for (const n of names) {
    const s = summary[n];
    s.ratio_vs_disabled = s.median_cpu_us_per_req / base;
    console.log(`  ${n.padEnd(10)} ${pad(f(s.median_cpu_us_per_req), 7)} (${f(s.min_cpu_us_per_req)}..${f(s.max_cpu_us_per_req)})  ${f(ratio(s.median_cpu_us_per_req, base), 3)}x`);
  }
  const perRound = rounds.map((r) => r.ratio_metrics_vs_disabled).sort((a, b) => a - b);
  console.log(`  metrics/disabled per round: ${perRound.map((x) => x.toFixed(3)).join(' ')} (target <= 1.03)`);
  for (const t of Object.values(targets)) await stopProcess(t.proc);
  meta.loadavg_end = os.loadavg().map((x) => Math.round(x * 100) / 100);
  meta.finished = new Date().toISOString();
  fs.mkdirSync(opts.out, { recursive: true });
  const outFile = path.join(opts.out, `observability-${stampOf(startedAt)}.json`);
  fs.writeFileSync(outFile, JSON.stringify({ meta, summary, rounds }, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), outFile)}`);
  await cleanup();
}

main().catch(async (err) => {
  process.stderr.write(`\nobservability: FAILED: ${err && err.stack ? err.stack : err}\n`);
  if (getTmpDir() && !keepsTmp()) process.stderr.write('(temp dir removed; rerun with --keep-tmp to inspect logs)\n');
  await cleanup();
  process.exit(1);
});

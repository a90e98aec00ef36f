#!/usr/bin/env node
// CPU cost of the access log on the passthrough route: two gateways, the same except for
// proxy.access_log (off; on at sample_rate 1, lines on stdout, which goes to a file), both with
// request ids on (the default), forwarding GET /plain/x to the same nginx upstream. Runs are
// interleaved round by round; the figure is CPU per request of the gateway's process tree.
// Manual tool, never run in CI. See bench/README.md.
//
//   node bench/access-log.mjs [--rounds 5] [--duration 10] [--warmup 2] [--connections 50] [--threads 1]
//                             [--sample-rate 1] [--runtime node|bun] [--proxy-cpu 0] [--load-cpu 1] [--out bench/results]
//
// Needs: nginx, wrk, taskset, getconf; Linux /proc (apt-get install -y nginx wrk).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  die, installCleanup, makeTmpDir, getTmpDir, keepsTmp, cleanup, stopProcess, which, median, ratio, f, pad,
  stampOf, startUpstream, gatewaySnapshot, adminPut, eventually, expectOk, runWrk, rejectWrkErrors, measure,
  parseBenchArgs, listOption, summarizeRuns, startGateway, runMeta,
} from './lib.mjs';

installCleanup('access-log');

const CPU_TARGET = 1.1;
const PATH = '/plain/x';

const HELP = `Usage: node bench/access-log.mjs [options]
  --rounds N         interleaved rounds (default 5)
  --duration S       seconds per measured wrk run (default 10)
  --warmup S         seconds of wrk against each gateway before its first measured run (default 2)
  --connections N    wrk keep-alive connections (default 50)
  --threads N        wrk threads (default 1)
  --sample-rate R    proxy.access_log.sample_rate of the "on" gateway (default 1)
  --runtime R        node (default) or bun: the runtime the gateways run on
  --proxy-cpu N      CPU the gateways are pinned to (default 0)
  --load-cpu N       CPU wrk and the upstream are pinned to (default 1)
  --out DIR          where the JSON result goes (default bench/results)
  --keep-tmp         keep the temp dir (configs, logs with the access lines)
`;

function parseArgs(argv) {
  return parseBenchArgs(argv, {
    help: HELP,
    defaults: { sampleRate: 1, runtime: 'node' },
    extra: {
      '--sample-rate': (o, { next }) => {
        const v = Number(next());
        if (!(v >= 0 && v <= 1)) die('--sample-rate must be a number from 0 to 1');
        o.sampleRate = v;
      },
      '--runtime': (o, { next }) => (o.runtime = listOption('--runtime', next(), ['node', 'bun'])[0]),
    },
  });
}

const accessLines = (file) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"source":"access"')).length;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  for (const tool of ['nginx', 'wrk', 'taskset', 'getconf']) {
    if (!which(tool)) die(`${tool} not found (apt-get update && apt-get install -y nginx wrk)`);
  }
  const ncpu = os.availableParallelism();
  if (opts.proxyCpu >= ncpu || opts.loadCpu >= ncpu) die(`only ${ncpu} CPUs: pick --proxy-cpu/--load-cpu below that`);
  makeTmpDir(opts.keepTmp);
  const startedAt = new Date();
  const scenarios = { off: '{ enabled: false }', on: `{ enabled: true, sample_rate: ${opts.sampleRate} }` };
  const meta = runMeta('access-log', opts, startedAt, {
    scenarios: Object.fromEntries(Object.entries(scenarios).map(([k, v]) => [k, `route ${PATH} -> nginx upstream, proxy.access_log: ${v}`])),
  });

  console.log(`access-log: ${opts.rounds} rounds x ${opts.duration}s, wrk -t${opts.threads} -c${opts.connections}, gateways (${opts.runtime}) on CPU ${opts.proxyCpu}, wrk+upstream on CPU ${opts.loadCpu}`);
  console.log(`  ${meta.nproc} CPUs (${meta.cpu_model}), ${meta.node}, ${meta.nginx}, loadavg ${meta.loadavg_start.join(' ')}`);

  const upstream = await startUpstream(opts.loadCpu);
  const snap = await gatewaySnapshot({ ifMissing: 'wait', need: ['workers/worker-main.js', 'observability/access-log.js'] });
  meta.gateway_dist_sha256 = snap.sha256;
  const targets = {};
  for (const [name, accessLog] of Object.entries(scenarios)) {
    const gw = await startGateway(opts.proxyCpu, snap.bin, { name: `gateway-${name}`, runtime: opts.runtime, proxy: `  access_log: ${accessLog}\n` });
    await adminPut(gw.adminPort, '/api/v1/service', { name: 'up', urls: [`http://127.0.0.1:${upstream.port}`] });
    await adminPut(gw.adminPort, '/api/v1/route', { name: 'plain', paths: ['/plain/*'], methods: ['*'], service: 'up' });
    await eventually(gw.proc, async () => {
      const r = await expectOk(`gateway-${name} ${PATH}`, gw.port, PATH);
      if (!/^[0-9a-f-]{36}$/.test(r.headers.get('x-request-id') ?? '')) throw new Error(`gateway-${name}: answer without a generated X-Request-Id`);
    });
    // the "on" gateway wrote a line for the check request (at rate 1), the "off" one none
    if (name === 'on' && opts.sampleRate === 1) await eventually(gw.proc, async () => {
      if (accessLines(gw.proc.log) === 0) throw new Error('gateway-on: no access line in its output');
    });
    if (name === 'off' && accessLines(gw.proc.log) !== 0) throw new Error('gateway-off wrote access lines');
    targets[name] = gw;
    console.log(`  gateway-${name} on 127.0.0.1:${gw.port} (pid ${gw.proc.pid}): proxy.access_log ${accessLog}`);
  }

  const names = Object.keys(scenarios);
  const rounds = [];
  const warmedUp = new Set();
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 === 1 ? names : [...names].reverse();
    const runs = {};
    for (const s of order) {
      const t = targets[s];
      const target = { proc: t.proc, port: t.port, path: PATH };
      if (!warmedUp.has(s) && opts.warmup > 0) {
        rejectWrkErrors(`${s} warm-up`, await runWrk(opts, t.port, opts.warmup, PATH), t.proc);
        warmedUp.add(s);
      }
      const { proxy, ...r } = await measure(opts, s, target, upstream);
      runs[s] = { scenario: proxy, path: PATH, ...r };
      console.log(
        `  round ${round} ${s.padEnd(4)} ${pad(f(r.rps, 0), 8)} req/s  ${pad(f(r.cpu_us_per_req, 1), 7)} µs CPU/req  ` +
          `core ${f(r.proxy_core_util * 100, 0)}%  others on its core ${f(r.others_on_proxy_cpu_pct, 0)}%  p99 ${f(r.latency_ms.p99_ms, 2)} ms`,
      );
    }
    rounds.push({ round, order, runs });
  }

  const byScenario = Object.fromEntries(names.map((s) => [s, summarizeRuns(rounds, s)]));
  const per = rounds.map((r) => ratio(r.runs.on.cpu_us_per_req, r.runs.off.cpu_us_per_req));
  const summary = {
    byScenario,
    cpu_ratio_on_off: { median_of_rounds: median(per), of_medians: ratio(byScenario.on.median_cpu_us_per_req, byScenario.off.median_cpu_us_per_req), per_round: per },
    access_lines_written: accessLines(targets.on.proc.log),
    requests_on: rounds.reduce((n, r) => n + r.runs.on.requests, 0),
  };
  console.log('\nMedians');
  for (const s of names) {
    const m = byScenario[s];
    console.log(`  ${s.padEnd(4)} ${pad(f(m.median_rps, 0), 8)} req/s  ${pad(f(m.median_cpu_us_per_req), 7)} µs CPU/req  (${f(m.min_cpu_us_per_req)}..${f(m.max_cpu_us_per_req)})  p99 ${f(m.median_p99_ms, 2)} ms`);
  }
  const v = summary.cpu_ratio_on_off;
  console.log(`\nCPU per request on/off: median of rounds ${f(v.median_of_rounds, 3)}, ratio of medians ${f(v.of_medians, 3)}, per round ${per.map((x) => f(x, 3)).join(' ')}  (target <= ${CPU_TARGET.toFixed(2)}: ${v.median_of_rounds <= CPU_TARGET ? 'met' : 'NOT met'})`);
  console.log(`access lines written by gateway-on: ${summary.access_lines_written} for ${summary.requests_on} measured requests (plus warm-up and checks)`);

  for (const t of Object.values(targets)) await stopProcess(t.proc);
  meta.loadavg_end = os.loadavg().map((x) => Math.round(x * 100) / 100);
  meta.finished = new Date().toISOString();
  fs.mkdirSync(opts.out, { recursive: true });
  const outFile = path.join(opts.out, `access-log-${stampOf(startedAt)}.json`);
  fs.writeFileSync(outFile, JSON.stringify({ meta, summary, rounds }, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), outFile)}`);
  if (opts.keepTmp) console.log(`temp dir kept: ${getTmpDir()}`);
  await cleanup();
}

main().catch(async (err) => {
  process.stderr.write(`\naccess-log: FAILED: ${err && err.stack ? err.stack : err}\n`);
  if (getTmpDir() && !keepsTmp()) process.stderr.write('(temp dir removed; rerun with --keep-tmp to inspect logs)\n');
  await cleanup();
  process.exit(1);
});

#!/usr/bin/env node
// CPU cost of module hooks on the request path: routes of one gateway (no module, a module with a
// requestModifier + responseModifier that set one header each, sync and async, a requestHandler
// answering JSON) and, for reference, nginx proxy_pass with and without njs doing the same header
// work, and the minimal Bun proxy with and without the same two headers (the floor on Bun), all
// forwarding to the same nginx upstream. With --before DIR, the same routes of a second gateway
// built in DIR (another checkout's dist/) are measured in the same rounds. Optionally a CPU
// profile of the gateway's worker under load. Manual tool, never run in CI. See bench/README.md.
//
//   node bench/modules.mjs [--rounds 5] [--duration 10] [--warmup 2] [--connections 50] [--threads 1]
//                          [--scenarios plain,modified,modified-async,handler,nginx,nginx-njs,minimal-bun,minimal-bun-modified]
//                          [--before DIR] [--runtime node|bun]
//                          [--profile S] [--proxy-cpu 0] [--load-cpu 1] [--out bench/results]
//
// Needs: nginx, wrk, taskset, getconf; Linux /proc; for nginx-njs libnginx-mod-http-js
// (apt-get install -y nginx wrk libnginx-mod-http-js).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  BENCH_DIR, ROOT, CLK_TCK, die, installCleanup, makeTmpDir, getTmpDir, keepsTmp, cleanup, stopProcess, freePort,
  httpGet, expectOk, which, versionOf, gitHead, median, ratio, f, pad, stampOf, startNginx, nginxDir, startUpstream,
  gatewaySnapshot, startGateway, adminPut, startProcess, waitFor, BUN_BIN, eventually, descendants, treeTicks, runWrk, rejectWrkErrors, measure, sleep,
  parseBenchArgs, listOption,
  summarizeRuns,
} from './lib.mjs';

installCleanup('modules');

// ---------------------------------------------------------------- scenarios

/** what runs where: gateway scenarios share one gateway process, nginx ones one nginx process */
const SCENARIOS = {
  plain: { on: 'gateway', path: '/plain/x', what: 'route /plain/* -> service, no modules' },
  modified: { on: 'gateway', path: '/mod/x', what: 'route /mod/* -> service, module: sync requestModifier + responseModifier (one header each)' },
  'modified-async': { on: 'gateway', path: '/amod/x', what: 'route /amod/* -> service, module: the same two as async functions' },
  handler: { on: 'gateway', path: '/h', what: 'route /h without service, module: requestHandler ctx.response().json({ ok: true })' },
  nginx: { on: 'nginx', path: '/plain/x', what: 'nginx proxy_pass (keepalive upstream), no njs' },
  'nginx-njs': { on: 'nginx', path: '/njs/x', what: 'nginx proxy_pass + njs: js_set -> proxy_set_header X-Req, js_header_filter sets X-Res' },
  'minimal-bun': { on: 'minimal-bun', path: '/plain/x', what: 'bench/minimal-bun-proxy.mjs: Bun.serve -> fetch -> new Response' },
  'minimal-bun-modified': { on: 'minimal-bun-modified', path: '/mod/x', what: 'bench/minimal-bun-proxy.mjs --modify: the same, X-Req: 1 set upstream and X-Res: 1 on the answer' },
};
const ALL = Object.keys(SCENARIOS);
/** what runs without --scenarios: the gateway's four and nginx's two */
const DEFAULT_SCENARIOS = ALL.filter((s) => !s.startsWith('minimal-bun'));
/** with --before DIR: the same gateway routes of the build in DIR, as `<scenario>-before` */
const BEFORE = ['plain', 'modified', 'modified-async', 'handler'];
for (const s of BEFORE) SCENARIOS[`${s}-before`] = { ...SCENARIOS[s], on: 'gateway-before', what: `${SCENARIOS[s].what} (the --before build)` };
const WITH_BEFORE = Object.keys(SCENARIOS);
const NJS_SO = '/usr/lib/nginx/modules/ngx_http_js_module.so';

// The module sources, as operators would write them (moduleType javascript).
const MODULES = {
  mod: `export function requestModifier(ctx) {
  ctx.request().headers.set('X-Req', '1');
}
export function responseModifier(ctx) {
  ctx.upstream().headers.set('X-Res', '1');
}
`,
  amod: `export async function requestModifier(ctx) {
  ctx.request().headers.set('X-Req', '1');
}
export async function responseModifier(ctx) {
  ctx.upstream().headers.set('X-Res', '1');
}
`,
  handler: `export function requestHandler(ctx) {
  ctx.response().json({ ok: true });
}
`,
};
const ROUTES = [
  { name: 'plain', paths: ['/plain/*'], methods: ['*'], service: 'up' },
  { name: 'mod', paths: ['/mod/*'], methods: ['*'], service: 'up', modules: ['mod'] },
  { name: 'amod', paths: ['/amod/*'], methods: ['*'], service: 'up', modules: ['amod'] },
  { name: 'h', paths: ['/h'], methods: ['*'], modules: ['handler'] },
];
// The njs script: the same two header writes.
const NJS_SCRIPT = `function xReq(r) {
  return '1';
}
function setRes(r) {
  r.headersOut['X-Res'] = '1';
}
export default { xReq, setRes };
`;

// ---------------------------------------------------------------- options

const HELP = `Usage: node bench/modules.mjs [options]
  --rounds N         interleaved rounds (default 5; 0 with --profile: profile only)
  --duration S       seconds per measured wrk run (default 10)
  --warmup S         seconds of wrk against each scenario before its first measured run (default 2)
  --connections N    wrk keep-alive connections (default 50)
  --threads N        wrk threads (default 1)
  --scenarios LIST   comma list out of ${ALL.join(',')} (default ${DEFAULT_SCENARIOS.join(',')};
                     the nginx-njs one is skipped with a notice when ${NJS_SO} is missing);
                     with --before also ${BEFORE.map((s) => `${s}-before`).join(',')}
  --before DIR       a second gateway from DIR/dist/src (another checkout, built): its routes are
                     the <scenario>-before scenarios, measured in the same rounds
  --profile S        afterwards, run a fresh gateway with --cpu-prof (node, or bun with --runtime bun) per scenario out of
                     plain,modified,modified-async, S seconds of load each, and summarize the
                     self time per function (default 0 = no profile)
  --proxy-cpu N      CPU the proxies are pinned to (default 0)
  --load-cpu N       CPU wrk and the upstream are pinned to (default 1)
  --out DIR          where the JSON result goes (default bench/results)
  --keep-tmp         keep the temp dir (configs, logs, .cpuprofile files) for inspection
  --runtime R        node (default) or bun: the runtime the gateway runs on (bun from the bun package)
`;

function parseArgs(argv) {
  const o = parseBenchArgs(argv, {
    help: HELP,
    minRounds: 0,
    defaults: { scenarios: [...DEFAULT_SCENARIOS], profile: 0 },
    extra: {
      '--scenarios': (opts, { next }) => (opts.scenarios = listOption('--scenarios', next(), WITH_BEFORE)),
      '--before': (opts, { next }) => (opts.before = path.resolve(next())),
      '--profile': (opts, { num }) => (opts.profile = num(0)),
      '--runtime': (opts, { next }) => (opts.runtime = listOption('--runtime', next(), ['node', 'bun'])[0]),
    },
  });
  if (o.rounds === 0 && o.profile === 0) die('--rounds 0 needs --profile');
  const beforeBin = o.before === undefined ? null : path.join(o.before, 'dist/src/bin/dgate-server.js');
  if (beforeBin !== null && !fs.existsSync(beforeBin)) die(`--before: ${beforeBin} missing (build that checkout first)`);
  if (beforeBin === null && o.scenarios.some((s) => s.endsWith('-before'))) die('the *-before scenarios need --before DIR');
  return o;
}

// ---------------------------------------------------------------- echo upstream (checks only)

/**
 * A node:http server in this process answering every request with the headers it received
 * (JSON). Only used before measuring, to see what module code / njs sent upstream.
 */
async function startEcho() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port };
}

async function getEcho(port, urlPath) {
  const r = await httpGet(`http://127.0.0.1:${port}${urlPath}`);
  if (r.status !== 200) throw new Error(`GET ${urlPath} via echo answered ${r.status} ${r.body.slice(0, 200)}`);
  return { res: r, seen: JSON.parse(r.body) };
}

// ---------------------------------------------------------------- the gateway with its four routes

const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');

async function configureGateway(gw, upstreamUrl) {
  await adminPut(gw.adminPort, '/api/v1/service', { name: 'up', urls: [upstreamUrl] });
  for (const [name, src] of Object.entries(MODULES)) {
    await adminPut(gw.adminPort, '/api/v1/module', { name, payload: b64(src), moduleType: 'javascript' });
  }
  for (const r of ROUTES) await adminPut(gw.adminPort, '/api/v1/route', r);
}

/** checks what each gateway route sends upstream and answers, against the echo then the real upstream */
async function verifyGateway(gw, upstreamPort, echoPort) {
  await configureGateway(gw, `http://127.0.0.1:${echoPort}`);
  await eventually(gw.proc, async () => {
    for (const [p, wantReq] of [['/plain/x', false], ['/mod/x', true], ['/amod/x', true]]) {
      const { res, seen } = await getEcho(gw.port, p);
      const got = seen.headers['x-req'];
      if (wantReq ? got !== '1' : got !== undefined) throw new Error(`gateway ${p}: upstream saw X-Req ${JSON.stringify(got)}, want ${wantReq ? '"1"' : 'none'}`);
      const xres = res.headers.get('x-res');
      if (wantReq ? xres !== '1' : xres !== null) throw new Error(`gateway ${p}: answer has X-Res ${JSON.stringify(xres)}, want ${wantReq ? '"1"' : 'none'}`);
    }
  });
  // now the real upstream (nginx "ok"), which the measurements use
  await adminPut(gw.adminPort, '/api/v1/service', { name: 'up', urls: [`http://127.0.0.1:${upstreamPort}`] });
  await eventually(gw.proc, async () => {
    const plain = await expectOk('gateway /plain/x', gw.port, '/plain/x');
    if (plain.headers.get('x-res') !== null) throw new Error('gateway /plain/x: unexpected X-Res');
    for (const p of ['/mod/x', '/amod/x']) {
      const r = await expectOk(`gateway ${p}`, gw.port, p);
      if (r.headers.get('x-res') !== '1') throw new Error(`gateway ${p}: answer has X-Res ${JSON.stringify(r.headers.get('x-res'))}, want "1"`);
    }
    const h = await httpGet(`http://127.0.0.1:${gw.port}/h`);
    if (h.status !== 200 || !/json/.test(h.headers.get('content-type') ?? '') || JSON.stringify(JSON.parse(h.body)) !== '{"ok":true}') {
      throw new Error(`gateway /h answered ${h.status} ${h.headers.get('content-type')} ${h.body.slice(0, 200)}, want 200 JSON {"ok":true}`);
    }
  });
}

// ---------------------------------------------------------------- the minimal Bun proxy

/** bench/minimal-bun-proxy.mjs (with --modify: X-Req upstream, X-Res on the answer), checked against the echo first */
async function startMinimalBun(cpu, name, upstreamPort, echoPort, modify) {
  const start = async (label, upstream) => {
    const port = await freePort();
    const args = [path.join(BENCH_DIR, 'minimal-bun-proxy.mjs'), '--port', String(port), '--upstream', upstream];
    if (modify) args.push('--modify');
    const proc = startProcess(label, cpu, BUN_BIN, args, { cwd: ROOT });
    await waitFor(label, proc, async () => fs.readFileSync(proc.log, 'utf8').includes('listening'));
    return { proc, port };
  };
  const check = await start(`${name}-check`, `http://127.0.0.1:${echoPort}`);
  const { res, seen } = await getEcho(check.port, '/mod/x');
  await stopProcess(check.proc);
  const want = modify ? '1' : undefined;
  if (seen.headers['x-req'] !== want) throw new Error(`${name}: upstream saw X-Req ${JSON.stringify(seen.headers['x-req'])}, want ${JSON.stringify(want)}`);
  if ((res.headers.get('x-res') ?? undefined) !== want) throw new Error(`${name}: answer has X-Res ${JSON.stringify(res.headers.get('x-res'))}, want ${JSON.stringify(want)}`);
  const t = await start(name, `http://127.0.0.1:${upstreamPort}`);
  await expectOk(name, t.port, '/plain/x');
  return t;
}

// ---------------------------------------------------------------- nginx with and without njs

function nginxProxyLocation(prefix, pass, extra = '') {
  return `
    location ${prefix} {
      proxy_pass ${pass};
      proxy_http_version 1.1;
      proxy_set_header Connection "";${extra}
    }`;
}

const NJS_EXTRA = `
      proxy_set_header X-Req $bench_x_req;
      js_header_filter bench.setRes;`;

/** one nginx: /plain/ = proxy_pass as in proxy-vs-nginx.mjs; /njs/ = the same plus njs; /verify-njs/ = /njs/ to the echo */
async function startNginxProxies(cpu, upstreamPort, echoPort, njs) {
  const port = await freePort();
  const dir = nginxDir('nginx');
  let main = '';
  let httpDirectives = '';
  let locations = nginxProxyLocation('/plain/', 'http://bench_upstream');
  if (njs) {
    const script = path.join(dir, 'bench.js');
    fs.writeFileSync(script, NJS_SCRIPT);
    main = `load_module ${NJS_SO};`;
    httpDirectives = `
  js_import bench from ${script};
  js_set $bench_x_req bench.xReq;`;
    locations += nginxProxyLocation('/njs/', 'http://bench_upstream', NJS_EXTRA);
    locations += nginxProxyLocation('/verify-njs/', `http://127.0.0.1:${echoPort}`, NJS_EXTRA);
  }
  const body = `${httpDirectives}
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} default_server;${locations}
  }`;
  const proc = await startNginx('nginx', cpu, port, body, main);
  const plain = await expectOk('nginx /plain/x', port, '/plain/x');
  if (plain.headers.get('x-res') !== null) throw new Error('nginx /plain/x: unexpected X-Res');
  if (njs) {
    const r = await expectOk('nginx /njs/x', port, '/njs/x');
    if (r.headers.get('x-res') !== '1') throw new Error(`nginx /njs/x: answer has X-Res ${JSON.stringify(r.headers.get('x-res'))}, want "1"`);
    const { res, seen } = await getEcho(port, '/verify-njs/x');
    if (seen.headers['x-req'] !== '1') throw new Error(`nginx /verify-njs/x: upstream saw X-Req ${JSON.stringify(seen.headers['x-req'])}, want "1"`);
    if (res.headers.get('x-res') !== '1') throw new Error('nginx /verify-njs/x: answer has no X-Res: 1');
  }
  return { proc, port, conf: fs.readFileSync(path.join(dir, 'nginx.conf'), 'utf8') };
}

// ---------------------------------------------------------------- CPU profile of the gateway worker

/** where a profile node's code lives, as a short name: dist/src/..., node:..., undici/..., module code */
function codeOf(url) {
  if (url === '') return '';
  if (url.startsWith('dgate://')) return url; // module code (node:vm, dgate://<namespace>/<module>)
  if (url.startsWith('node:')) return url;
  const p = url.startsWith('file://') ? url.slice(7) : url;
  const d = p.indexOf('/dist/src/');
  if (d >= 0) return p.slice(d + 1);
  const n = p.lastIndexOf('/node_modules/');
  if (n >= 0) return p.slice(n + '/node_modules/'.length);
  return p;
}

function categoryOf(code, fn) {
  if (code === '') {
    if (fn === '(garbage collector)') return 'gc';
    if (fn === '(idle)') return 'idle';
    if (fn === '(program)') return 'program (native, unattributed)';
    return 'native';
  }
  if (code.startsWith('dgate://')) return 'module code';
  if (code.startsWith('dist/src/modules/')) return 'dist/src/modules';
  if (code.startsWith('dist/src/proxy/')) return 'dist/src/proxy';
  if (code.startsWith('dist/src/')) return 'dist/src (other)';
  if (code.startsWith('undici/')) return 'undici';
  if (code.startsWith('node:')) return 'node internals';
  return 'other JS';
}

/**
 * Self time per function of a .cpuprofile, restricted to samples between `fromUs` and `toUs`
 * (µs on the clock of the profile: process.hrtime on Node, the epoch on Bun), per request.
 * Time of sample i is timeDeltas[i + 1] (as Chrome DevTools counts).
 */
function summarizeProfile(file, fromUs, toUs, requests) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map(); // node id -> µs
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    const dt = i + 1 < prof.timeDeltas.length ? prof.timeDeltas[i + 1] : 0;
    if (t < fromUs || t >= toUs || dt <= 0) continue;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const fns = new Map();
  const cats = new Map();
  let busy = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const code = codeOf(url);
    const fn = functionName || '(anonymous)';
    const cat = categoryOf(code, fn);
    cats.set(cat, (cats.get(cat) ?? 0) + us);
    if (cat === 'idle') continue;
    busy += us;
    const key = code === '' ? fn : `${code}:${fn}:${lineNumber + 1}`;
    const e = fns.get(key) ?? { fn: key, category: cat, self_us: 0 };
    e.self_us += us;
    fns.set(key, e);
  }
  const perReq = (us) => us / requests;
  const functions = [...fns.values()]
    .sort((a, b) => b.self_us - a.self_us)
    .map((e) => ({ fn: e.fn, category: e.category, self_pct: (100 * e.self_us) / busy, us_per_req: perReq(e.self_us) }));
  const categories = Object.fromEntries(
    [...cats.entries()].sort((a, b) => b[1] - a[1]).map(([c, us]) => [c, { self_pct: c === 'idle' ? null : (100 * us) / busy, us_per_req: perReq(us) }]),
  );
  return { busy_us_per_req: perReq(busy), requests, window_s: (toUs - fromUs) / 1e6, categories, functions };
}

/** one fresh gateway under --cpu-prof, `seconds` of load on one scenario, then its worker's profile */
async function profileScenario(opts, scenario, bin, upstream, echo) {
  const name = `gateway-prof-${scenario}`;
  const profDir = path.join(getTmpDir(), `${name}-cpuprofile`);
  fs.mkdirSync(profDir, { recursive: true });
  // the cluster worker inherits the primary's execArgv, so it profiles itself too
  const onBun = opts.runtime === 'bun';
  const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=250'];
  const gw = await startGateway(opts.proxyCpu, bin, onBun ? { name, nodeArgs, exec: BUN_BIN, args: ['--runtime', 'bun'] } : { name, nodeArgs });
  await verifyGateway(gw, upstream.port, echo.port);
  // the cluster worker (other descendants: esbuild's service process)
  const cmdline = (pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      return '';
    }
  };
  const workers = descendants(gw.proc.pid).slice(1).filter((pid) => cmdline(pid).includes('worker-main.js'));
  if (workers.length !== 1) {
    const all = descendants(gw.proc.pid).slice(1).map((pid) => `${pid}: ${cmdline(pid)}`);
    throw new Error(`${name}: expected one worker process (worker-main.js), found ${workers.length} among\n${all.join('\n')}`);
  }
  const worker = workers[0];
  const p = SCENARIOS[scenario].path;
  if (opts.warmup > 0) rejectWrkErrors(`${name} warm-up`, await runWrk(opts, gw.port, opts.warmup, p), gw.proc);
  // only the measured run's samples count (not start-up, module compilation or the warm-up)
  // Node's profile timestamps are on process.hrtime's clock, Bun's in µs since the epoch
  const nowUs = onBun ? () => Date.now() * 1000 : () => Number(process.hrtime.bigint() / 1000n);
  const before = treeTicks(gw.proc.pid);
  const fromUs = nowUs();
  const wrk = await runWrk(opts, gw.port, opts.profile, p);
  const toUs = nowUs();
  const after = treeTicks(gw.proc.pid);
  rejectWrkErrors(name, wrk, gw.proc);
  // SIGKILL the primary only: the worker sees its IPC channel close and exits with
  // process.exit(0), which writes its profile (a SIGTERM would kill it without one).
  process.kill(gw.proc.pid, 'SIGKILL');
  const deadline = Date.now() + 15_000;
  const isAlive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  while (isAlive(worker) && Date.now() < deadline) await sleep(50);
  await stopProcess(gw.proc);
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread (1: the watchdog)
  const file = fs.readdirSync(profDir).find((x) => x.includes(`.${worker}.0.`) && x.endsWith('.cpuprofile'));
  if (!file) throw new Error(`${name}: worker ${worker} wrote no main-thread .cpuprofile in ${profDir}`);
  const summary = summarizeProfile(path.join(profDir, file), fromUs, toUs, wrk.requests);
  return {
    scenario,
    path: p,
    load_seconds: opts.profile,
    warmup_seconds: opts.warmup,
    rps: wrk.rps,
    // /proc CPU per request of the profiled run (profiler overhead included)
    cpu_us_per_req_proc: (((after.ticks - before.ticks) / CLK_TCK) * 1e6) / wrk.requests,
    ...summary,
  };
}

function printProfiles(profiles) {
  const ours = (e) => e.category === 'dist/src/modules' || e.category === 'dist/src/proxy';
  for (const pr of profiles) {
    console.log(`\nProfile ${pr.scenario} (${pr.path}): ${f(pr.rps, 0)} req/s under the profiler, ${f(pr.cpu_us_per_req_proc)} µs CPU/req (/proc), ${f(pr.busy_us_per_req)} µs/req sampled`);
    console.log('  by category: ' + Object.entries(pr.categories).filter(([c]) => c !== 'idle').map(([c, v]) => `${c} ${f(v.us_per_req, 2)} µs (${f(v.self_pct)}%)`).join(', '));
    console.log('  top self time, dist/src/modules + dist/src/proxy:');
    for (const e of pr.functions.filter(ours).slice(0, 12)) console.log(`    ${pad(f(e.self_pct, 2), 6)}%  ${pad(f(e.us_per_req, 2), 6)} µs/req  ${e.fn}`);
    console.log('  top self time, everything:');
    for (const e of pr.functions.slice(0, 12)) console.log(`    ${pad(f(e.self_pct, 2), 6)}%  ${pad(f(e.us_per_req, 2), 6)} µs/req  ${e.fn}  [${e.category}]`);
  }
  const plain = profiles.find((p) => p.scenario === 'plain');
  if (!plain) return [];
  const diffs = [];
  for (const pr of profiles) {
    if (pr === plain) continue;
    const base = new Map(plain.functions.map((e) => [e.fn, e.us_per_req]));
    const cats = Object.fromEntries(
      Object.entries(pr.categories).filter(([c]) => c !== 'idle').map(([c, v]) => [c, v.us_per_req - (plain.categories[c]?.us_per_req ?? 0)]),
    );
    const rows = pr.functions
      .map((e) => ({ fn: e.fn, category: e.category, delta_us_per_req: e.us_per_req - (base.get(e.fn) ?? 0) }))
      .sort((a, b) => b.delta_us_per_req - a.delta_us_per_req)
      .slice(0, 25);
    const d = { scenario: pr.scenario, busy_delta_us_per_req: pr.busy_us_per_req - plain.busy_us_per_req, categories: cats, functions: rows };
    diffs.push(d);
    console.log(`\n${pr.scenario} minus plain: ${f(d.busy_delta_us_per_req, 2)} µs/req sampled`);
    console.log('  by category: ' + Object.entries(cats).sort((a, b) => b[1] - a[1]).map(([c, v]) => `${c} ${v >= 0 ? '+' : ''}${f(v, 2)}`).join(', '));
    console.log('  largest increases (µs/req):');
    for (const e of rows.slice(0, 15)) console.log(`    ${pad((e.delta_us_per_req >= 0 ? '+' : '') + f(e.delta_us_per_req, 2), 7)}  ${e.fn}  [${e.category}]`);
  }
  return diffs;
}

// ---------------------------------------------------------------- output

function printRun(round, r) {
  console.log(
    `  round ${round} ${r.scenario.padEnd(22)} ${pad(f(r.rps, 0), 8)} req/s  ${pad(f(r.cpu_us_per_req, 1), 7)} µs CPU/req  ` +
      `core ${f(r.proxy_core_util * 100, 0)}%  others on its core ${f(r.others_on_proxy_cpu_pct, 0)}%  ` +
      `p50 ${f(r.latency_ms.p50_ms, 2)} ms  p99 ${f(r.latency_ms.p99_ms, 2)} ms`,
  );
}

/** [numerator, denominator, what]: CPU per request ratios, and throughput ratios */
const CPU_RATIOS = [
  ['modified', 'plain'],
  ['minimal-bun-modified', 'minimal-bun'],
  ['minimal-bun', 'plain'],
  ['modified-before', 'plain-before'],
  ['modified-async-before', 'plain-before'],
  ['plain', 'plain-before'],
  ['modified', 'modified-before'],
  ['modified-async', 'modified-async-before'],
  ['handler', 'handler-before'],
  ['modified-async', 'plain'],
  ['handler', 'plain'],
  ['nginx-njs', 'nginx'],
  ['plain', 'nginx'],
];
const RPS_RATIOS = [
  ['handler', 'plain'],
  ['modified', 'plain'],
  ['modified-async', 'plain'],
  ['nginx-njs', 'nginx'],
];
const CPU_TARGET = 1.1;

function summarize(scenarios, rounds) {
  const byScenario = {};
  for (const s of scenarios) {
    byScenario[s] = summarizeRuns(rounds, s);
  }
  const paired = (pairs, field, medianField) => {
    const out = {};
    for (const [a, b] of pairs.filter(([a, b]) => scenarios.includes(a) && scenarios.includes(b))) {
      const per = rounds.map((r) => ratio(r.runs[a][field], r.runs[b][field]));
      out[`${a}/${b}`] = {
        median_of_rounds: median(per),
        of_medians: ratio(byScenario[a][medianField], byScenario[b][medianField]),
        per_round: per,
      };
    }
    return out;
  };
  return {
    byScenario,
    cpu_ratios: paired(CPU_RATIOS, 'cpu_us_per_req', 'median_cpu_us_per_req'),
    rps_ratios: paired(RPS_RATIOS, 'rps', 'median_rps'),
  };
}

function printSummary(scenarios, rounds, summary) {
  console.log('\nPer round: CPU µs per request (req/s)');
  const ratioKeys = Object.keys(summary.cpu_ratios);
  const w = (name, min) => Math.max(min, name.length + 2);
  console.log(['round'.padEnd(6), ...scenarios.map((s) => pad(s, w(s, 17))), ...ratioKeys.map((k) => pad(k, w(k, 21)))].join(''));
  for (const r of rounds) {
    const cells = [String(r.round).padEnd(6)];
    for (const s of scenarios) cells.push(pad(`${f(r.runs[s].cpu_us_per_req)} (${f(r.runs[s].rps, 0)})`, w(s, 17)));
    for (const k of ratioKeys) cells.push(pad(f(summary.cpu_ratios[k].per_round[r.round - 1], 3), w(k, 21)));
    console.log(cells.join(''));
  }
  console.log('\nMedians');
  console.log(`${'scenario'.padEnd(22)}${pad('req/s', 10)}${pad('CPU µs/req', 12)}${pad('min..max', 16)}${pad('core use', 10)}${pad('p99 ms', 9)}`);
  for (const s of scenarios) {
    const m = summary.byScenario[s];
    console.log(
      `${s.padEnd(22)}${pad(f(m.median_rps, 0), 10)}${pad(f(m.median_cpu_us_per_req), 12)}` +
        `${pad(`${f(m.min_cpu_us_per_req)}..${f(m.max_cpu_us_per_req)}`, 16)}${pad(f(m.median_core_util * 100, 0) + '%', 10)}${pad(f(m.median_p99_ms, 2), 9)}`,
    );
  }
  console.log('\nCPU per request ratios (first / second; paired per round)');
  for (const [k, v] of Object.entries(summary.cpu_ratios)) {
    const target = (k.endsWith('/plain') || k.endsWith('/plain-before')) && k.startsWith('modified') ? `  (target <= ${CPU_TARGET.toFixed(2)}: ${v.median_of_rounds <= CPU_TARGET ? 'met' : 'NOT met'})` : '';
    console.log(`  ${k.padEnd(34)} median of rounds ${f(v.median_of_rounds, 3)}   ratio of medians ${f(v.of_medians, 3)}${target}`);
  }
  console.log('\nThroughput ratios (req/s of first / second; paired per round)');
  for (const [k, v] of Object.entries(summary.rps_ratios)) {
    console.log(`  ${k.padEnd(34)} median of rounds ${f(v.median_of_rounds, 3)}   ratio of medians ${f(v.of_medians, 3)}`);
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  for (const tool of ['nginx', 'wrk', 'taskset', 'getconf']) {
    if (!which(tool)) die(`${tool} not found (apt-get update && apt-get install -y nginx wrk)`);
  }
  if (!fs.existsSync('/proc/self/task')) die('needs Linux /proc');
  const ncpu = os.availableParallelism();
  if (opts.proxyCpu >= ncpu || opts.loadCpu >= ncpu) die(`only ${ncpu} CPUs: pick --proxy-cpu/--load-cpu below that`);
  const njs = fs.existsSync(NJS_SO);
  const skipped = [];
  if (!njs && opts.scenarios.includes('nginx-njs')) {
    console.log(`modules: ${NJS_SO} not found (apt-get install -y libnginx-mod-http-js): nginx-njs skipped`);
    opts.scenarios = opts.scenarios.filter((s) => s !== 'nginx-njs');
    skipped.push('nginx-njs');
  }
  const scenarios = opts.rounds > 0 ? opts.scenarios : [];

  makeTmpDir(opts.keepTmp);
  const startedAt = new Date();
  const dpkgVersion = (pkg) => {
    try {
      return execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
    } catch {
      return null;
    }
  };
  const meta = {
    date: startedAt.toISOString(),
    command: `node bench/modules.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    options: { ...opts, out: path.relative(ROOT, opts.out) || '.' },
    scenarios: Object.fromEntries(scenarios.map((s) => [s, SCENARIOS[s]])),
    skipped,
    nproc: ncpu,
    cpu_model: os.cpus()[0]?.model ?? null,
    kernel: os.release(),
    node: process.version,
    nginx: versionOf('nginx', ['-v']),
    njs: njs ? `libnginx-mod-http-js ${dpkgVersion('libnginx-mod-http-js')}` : null,
    wrk: versionOf('wrk', ['-v']),
    clk_tck: CLK_TCK,
    loadavg_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
    // HEAD only: the checkout may hold uncommitted work; gateway_dist_sha256 names the build that ran
    git_head: gitHead(),
    modules: MODULES,
    routes: ROUTES,
    njs_script: njs ? NJS_SCRIPT : null,
  };
  console.log(`modules: ${opts.rounds} rounds x ${opts.duration}s, wrk -t${opts.threads} -c${opts.connections}, proxies on CPU ${opts.proxyCpu}, wrk+upstream on CPU ${opts.loadCpu}`);
  console.log(`  ${meta.nproc} CPUs (${meta.cpu_model}), ${meta.node}, ${meta.nginx}${meta.njs ? `, ${meta.njs}` : ''}, loadavg ${meta.loadavg_start.join(' ')}`);

  const upstream = await startUpstream(opts.loadCpu);
  const echo = await startEcho();
  console.log(`  upstream nginx on 127.0.0.1:${upstream.port}; echo upstream for checks on 127.0.0.1:${echo.port}`);
  const needGateway = scenarios.some((s) => SCENARIOS[s].on === 'gateway') || opts.profile > 0;
  let bin = null;
  if (needGateway) {
    const snap = await gatewaySnapshot({ ifMissing: 'wait', need: ['workers/worker-main.js', 'modules/hook-runner.js', 'proxy/module-answer.js'] });
    bin = snap.bin;
    meta.gateway_dist_sha256 = snap.sha256;
  }
  const targets = {};
  const onBun = opts.runtime === 'bun';
  const runtimeOpts = onBun ? { exec: BUN_BIN, args: ['--runtime', 'bun'] } : {};
  if (scenarios.some((s) => SCENARIOS[s].on === 'gateway')) {
    const gw = await startGateway(opts.proxyCpu, bin, runtimeOpts);
    await verifyGateway(gw, upstream.port, echo.port);
    targets.gateway = gw;
    console.log(`  gateway on 127.0.0.1:${gw.port} (pid ${gw.proc.pid}): /plain/x "ok" without X-Req/X-Res; /mod/x, /amod/x: upstream got X-Req: 1, answer has X-Res: 1; /h -> {"ok":true}`);
  }
  if (scenarios.some((s) => SCENARIOS[s].on === 'gateway-before')) {
    const gw = await startGateway(opts.proxyCpu, path.join(opts.before, 'dist/src/bin/dgate-server.js'), { name: 'gateway-before', ...runtimeOpts });
    await verifyGateway(gw, upstream.port, echo.port);
    targets['gateway-before'] = gw;
    meta.before = { dir: opts.before };
    console.log(`  gateway-before (${opts.before}) on 127.0.0.1:${gw.port} (pid ${gw.proc.pid}): checked as the gateway`);
  }
  for (const on of ['minimal-bun', 'minimal-bun-modified']) {
    if (!scenarios.some((s) => SCENARIOS[s].on === on)) continue;
    targets[on] = await startMinimalBun(opts.proxyCpu, on, upstream.port, echo.port, on === 'minimal-bun-modified');
    console.log(`  ${on} on 127.0.0.1:${targets[on].port} (pid ${targets[on].proc.pid})${on === 'minimal-bun-modified' ? ': upstream got X-Req: 1, answer has X-Res: 1' : ''}`);
  }
  if (scenarios.some((s) => SCENARIOS[s].on === 'nginx')) {
    const ng = await startNginxProxies(opts.proxyCpu, upstream.port, echo.port, scenarios.includes('nginx-njs'));
    targets.nginx = ng;
    meta.nginx_conf = ng.conf;
    console.log(`  nginx on 127.0.0.1:${ng.port} (pid ${ng.proc.pid}): /plain/x "ok"${scenarios.includes('nginx-njs') ? '; /njs/x: X-Res: 1 and (via /verify-njs/) upstream got X-Req: 1' : ''}`);
  }

  const warmedUp = new Set();
  const rounds = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const k = (round - 1) % scenarios.length;
    const order = [...scenarios.slice(k), ...scenarios.slice(0, k)];
    const runs = {};
    for (const s of order) {
      const t = targets[SCENARIOS[s].on];
      const target = { proc: t.proc, port: t.port, path: SCENARIOS[s].path };
      if (!warmedUp.has(s) && opts.warmup > 0) {
        rejectWrkErrors(`${s} warm-up`, await runWrk(opts, t.port, opts.warmup, target.path), t.proc);
        warmedUp.add(s);
      }
      const { proxy, ...r } = await measure(opts, s, target, upstream);
      runs[s] = { scenario: proxy, path: target.path, ...r };
      printRun(round, runs[s]);
    }
    rounds.push({ round, order, runs });
  }

  let summary = null;
  if (rounds.length > 0) {
    summary = summarize(scenarios, rounds);
    printSummary(scenarios, rounds, summary);
  }
  for (const t of Object.values(targets)) await stopProcess(t.proc);

  let profile = null;
  if (opts.profile > 0) {
    console.log(`\nCPU profiles (node --cpu-prof --cpu-prof-interval 250 of the gateway's worker, ${opts.warmup}+${opts.profile} s of load each, fresh gateway per scenario)`);
    const profiles = [];
    for (const s of ['plain', 'modified', 'modified-async']) profiles.push(await profileScenario(opts, s, bin, upstream, echo));
    const diffs = printProfiles(profiles);
    // keep the JSON readable: the 40 largest functions of each profile
    profile = { profiles: profiles.map((p) => ({ ...p, functions: p.functions.slice(0, 40) })), diffs_vs_plain: diffs };
  }

  echo.server.closeAllConnections();
  echo.server.close();
  meta.loadavg_end = os.loadavg().map((x) => Math.round(x * 100) / 100);
  meta.finished = new Date().toISOString();
  fs.mkdirSync(opts.out, { recursive: true });
  const outFile = path.join(opts.out, `modules-${stampOf(startedAt)}.json`);
  fs.writeFileSync(outFile, JSON.stringify({ meta, summary, rounds, profile }, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), outFile)}`);
  if (opts.keepTmp) console.log(`temp dir kept: ${getTmpDir()}`);
  await cleanup();
}

main().catch(async (err) => {
  process.stderr.write(`\nmodules: FAILED: ${err && err.stack ? err.stack : err}\n`);
  if (getTmpDir() && !keepsTmp()) process.stderr.write('(temp dir removed; rerun with --keep-tmp to inspect logs)\n');
  await cleanup();
  process.exit(1);
});

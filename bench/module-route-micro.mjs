// CPU per request of the gateway's own JavaScript on Bun, for the passthrough route and a module
// route whose requestModifier and responseModifier set one header each, without sockets: an
// in-process gateway (proxy.workers: 0, its defaults: metrics, stats, request ids, forwarding
// headers) whose Bun.serve `fetch` handler is called directly with `Request`s, and whose upstream
// `fetch` answers at once with a `Response` shaped like nginx's. What it leaves out (the
// sockets, HTTP parsing, `requestIP`, fetch's connection pool) is the same for both routes, so
// the difference it measures is what the module route adds in JavaScript and in the fetch
// objects it touches. Manual tool, never run in CI. See bench/README.md.
//
//   node_modules/.bin/bun bench/module-route-micro.mjs [--dist DIR] [--rounds 7] [--requests 40000] [--concurrency 20] [--only plain|mod] [--disable-metrics]
//
// --dist: the checkout whose dist/ runs (default this one; build it first with npx tsc -p .).
// --only: run one route only (under `bun --cpu-prof-md`, a profile of that route alone).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const root = path.resolve(arg('dist', path.join(HERE, '..')));
const rounds = Number(arg('rounds', 7));
const requests = Number(arg('requests', 40000));
const concurrency = Number(arg('concurrency', 20));
const only = arg('only', null);
/** --disable-metrics: the gateway with disable_metrics: true (nothing subscribes to the request-path channels) */
const disableMetrics = process.argv.includes('--disable-metrics');
if (globalThis.Bun === undefined) {
  process.stderr.write('module-route-micro: run it with bun (node_modules/.bin/bun bench/module-route-micro.mjs)\n');
  process.exit(2);
}

// the listener's fetch handler, kept when the gateway starts its Bun.serve
const handlers = [];
const serve = Bun.serve.bind(Bun);
Bun.serve = (options) => {
  handlers.push(options.fetch);
  return serve(options);
};

const { buildConfig } = await import(path.join(root, 'dist/src/config/load.js'));
const { startGateway } = await import(path.join(root, 'dist/src/main.js'));
const { pino } = await import('pino');

const config = buildConfig({
  storage: { type: 'memory' },
  proxy: { host: '127.0.0.1', port: 0, workers: 0 },
  admin: { host: '127.0.0.1', port: 0 },
  ...(disableMetrics ? { disable_metrics: true } : {}),
});
const gateway = await startGateway(config, pino({ level: 'silent' }));
const admin = `http://127.0.0.1:${gateway.adminPort}`;
async function put(kind, body) {
  const r = await fetch(`${admin}/api/v1/${kind}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (r.status !== 201 && r.status !== 200) throw new Error(`PUT ${kind}: ${r.status} ${await r.text()}`);
}
const MODULE = `export function requestModifier(ctx) {
  ctx.request().headers.set('X-Req', '1');
}
export function responseModifier(ctx) {
  ctx.upstream().headers.set('X-Res', '1');
}
`;
await put('service', { name: 'up', urls: ['http://127.0.0.1:9'] });
await put('module', { name: 'mod', payload: Buffer.from(MODULE).toString('base64'), moduleType: 'javascript' });
await put('route', { name: 'plain', paths: ['/plain/*'], methods: ['*'], service: 'up' });
await put('route', { name: 'mod', paths: ['/mod/*'], methods: ['*'], service: 'up', modules: ['mod'] });

// from here on, fetch is the upstream: an nginx-like answer, the headers it was sent kept for a check
const realFetch = globalThis.fetch;
let lastSent = null;
globalThis.fetch = async (url, init) => {
  lastSent = init.headers;
  return new Response('ok', {
    status: 200,
    headers: { Server: 'nginx/1.22.1', Date: new Date(0).toUTCString(), 'Content-Type': 'text/plain', 'Content-Length': '2', Connection: 'keep-alive' },
  });
};
const handler = handlers[0];
const port = gateway.proxyPort;
const server = {
  requestIP: () => ({ address: '127.0.0.1', family: 'IPv4', port: 50000 }),
  timeout() {},
  upgrade: () => false,
};
const request = (p) => new Request(`http://127.0.0.1:${port}${p}`, { headers: { Host: `127.0.0.1:${port}` } });

// the routes answer as the gateway's do (the table reaches the proxy asynchronously)
for (let i = 0; ; i++) {
  const r = await handler(request('/mod/x'), server);
  if (r.status === 200 && r.headers.get('x-res') === '1' && lastSent?.get('x-req') === '1') break;
  if (i > 200) throw new Error(`/mod/x answered ${r.status}, X-Res ${r.headers.get('x-res')}`);
  await Bun.sleep(20);
}
const plainAnswer = await handler(request('/plain/x'), server);
if (plainAnswer.status !== 200 || plainAnswer.headers.get('x-res') !== null) throw new Error(`/plain/x answered ${plainAnswer.status}`);

async function run(p, n) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const r = await handler(request(p), server);
      await r.arrayBuffer();
    }
  };
  const t0 = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
if (only !== null) {
  const p = only === 'plain' ? '/plain/x' : '/mod/x';
  for (let i = 0; i < rounds; i++) console.log(`round ${i + 1}: ${only} ${(await run(p, requests)).toFixed(2)} µs/req`);
  globalThis.fetch = realFetch;
  await gateway.close();
  process.exit(0);
}
await run('/plain/x', requests / 4);
await run('/mod/x', requests / 4);
const plain = [];
const mod = [];
for (let i = 0; i < rounds; i++) {
  Bun.gc(true);
  plain.push(await run('/plain/x', requests));
  Bun.gc(true);
  mod.push(await run('/mod/x', requests));
  console.log(`round ${i + 1}: plain ${plain[i].toFixed(2)} µs/req, modified ${mod[i].toFixed(2)} µs/req, difference ${(mod[i] - plain[i]).toFixed(2)} µs`);
}
const diffs = plain.map((p, i) => mod[i] - p);
console.log(`medians (${root}): plain ${median(plain).toFixed(2)} µs/req, modified ${median(mod).toFixed(2)} µs/req, difference ${median(diffs).toFixed(2)} µs/req (median of rounds)`);
// the least disturbed rounds: the minimum of each (others' load on a shared machine only adds)
console.log(`minima: plain ${Math.min(...plain).toFixed(2)} µs/req, modified ${Math.min(...mod).toFixed(2)} µs/req, difference ${(Math.min(...mod) - Math.min(...plain)).toFixed(2)} µs/req`);
globalThis.fetch = realFetch;
await gateway.close();
process.exit(0);

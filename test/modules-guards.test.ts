/**
 * Module failures on the request path: throws, rejections, the time budget, failing error
 * handlers and unreachable upstreams each give a definite answer, and the gateway keeps serving.
 * The gateway runs with `proxy.module_timeout: 200ms`.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { closeGateway, header, scope, startUpstream, type Scope, type Upstream } from './support/modules-harness.js';
import { REFUSING_URL } from './support/refusing.js';
import { until } from './support/until.js';

let gw: TestGateway;
let echo: EchoServer;
const upstreams: Upstream[] = [];

before(async () => {
  echo = await startEchoServer();
  gw = await startTestGateway({ proxy: { module_timeout: '200ms' } });
});
after(async () => {
  await closeGateway(gw);
  await echo.close();
  for (const u of upstreams) await u.close();
});

/** An errorHandler answering 503 JSON with the message it was given. */
const REPORTING_ERROR_HANDLER = `export function errorHandler(ctx: any, err: any) {
  ctx.response().status(503).json({ handled: true, message: err?.message ?? String(err) });
}
`;

/** A namespace with an echo service, a route /ok that always works, and `routes` using module `m`. */
async function failing(ns: string, source: string, routes: Array<{ path: string; service?: boolean }>): Promise<Scope> {
  const s = await scope(gw, ns);
  await s.service('echo', [echo.url]);
  await s.module('m', source);
  await s.module('fine', `export function requestHandler(ctx: any) { ctx.response().json({ fine: true }); }\n`);
  await s.route({ name: 'ok', paths: ['/ok'], methods: ['GET'], modules: ['fine'] });
  for (const [i, r] of routes.entries()) {
    await s.route({ name: `r${i}`, paths: [r.path], methods: ['*'], modules: ['m'], ...(r.service ? { service: 'echo' } : {}) });
  }
  return s;
}

async function stillServing(s: Scope): Promise<void> {
  const r = await s.call('/ok');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), { fine: true });
}

describe('failing module functions', { timeout: 60_000 }, () => {
  it('a requestHandler that throws gives 500, one that rejects gives 500, and the gateway keeps serving', async () => {
    const s = await failing(
      'guard-throw',
      `export function requestHandler(ctx: any) {
  if (ctx.query().has('reject')) return Promise.reject(new Error('rejected'));
  if (ctx.query().has('async')) return (async () => { await null; throw new Error('async throw'); })();
  throw new Error('thrown');
}
`,
      [{ path: '/h' }],
    );
    for (const q of ['', '?reject=1', '?async=1']) {
      const r = await s.call(`/h${q}`);
      assert.equal(r.status, 500, q);
      assert.doesNotMatch(r.text, /thrown|rejected|async throw/, 'the error text is not leaked to the client');
    }
    await stillServing(s);
  });

  it('errorHandler(ctx, err) answers for a throwing or rejecting function and receives its message', async () => {
    const s = await failing(
      'guard-error-handler',
      `export function requestModifier(ctx: any) {
  if (ctx.query().has('modifier')) throw new Error('modifier failed');
}
export async function requestHandler(ctx: any) {
  if (ctx.query().has('reject')) throw new Error('handler rejected');
  throw 'a plain string';
}
${REPORTING_ERROR_HANDLER}`,
      [{ path: '/h' }],
    );
    const modifier = await s.call('/h?modifier=1');
    assert.equal(modifier.status, 503);
    assert.deepEqual(modifier.json(), { handled: true, message: 'modifier failed' });

    const rejected = await s.call('/h?reject=1');
    assert.equal(rejected.status, 503);
    assert.deepEqual(rejected.json(), { handled: true, message: 'handler rejected' });

    const plain = await s.call('/h');
    assert.equal(plain.status, 503);
    assert.equal(plain.json().message, 'a plain string');
    await stillServing(s);
  });

  it('a synchronous throw from requestHandler after an async requestModifier gives 500', async () => {
    const s = await failing(
      'guard-sync-after-async',
      `export async function requestModifier(ctx: any) { await null; }
export function requestHandler(ctx: any) { throw new Error('sync after async'); }
`,
      [{ path: '/h' }],
    );
    const r = await s.call('/h', { timeoutMs: 3000 });
    assert.equal(r.status, 500);
    await stillServing(s);
  });

  it('errorHandler is given the synchronous throw of a requestHandler that follows an async requestModifier', async () => {
    const s = await failing(
      'guard-sync-after-async-eh',
      `export async function requestModifier(ctx: any) { await null; }
export function requestHandler(ctx: any) { throw new Error('sync after async'); }
${REPORTING_ERROR_HANDLER}`,
      [{ path: '/h' }],
    );
    const r = await s.call('/h', { timeoutMs: 3000 });
    assert.equal(r.status, 503);
    assert.deepEqual(r.json(), { handled: true, message: 'sync after async' });
  });

  it('fetchUpstream that throws, rejects or returns nothing usable gives 500', async () => {
    const up = await startUpstream();
    upstreams.push(up);
    const s = await scope(gw, 'guard-fetch-upstream');
    await s.service('up', [up.url]);
    await s.module(
      'm',
      `export function fetchUpstream(ctx: any) {
  const how = ctx.query().get('how');
  if (how === 'throw') throw new Error('no upstream');
  if (how === 'reject') return Promise.reject(new Error('no upstream later'));
  if (how === 'empty') return '';
  if (how === 'number') return 42;
  return undefined;
}
`,
    );
    await s.route({ name: 'r', paths: ['/f'], methods: ['GET'], service: 'up', modules: ['m'] });
    for (const how of ['throw', 'reject', 'empty', 'number', 'undefined']) {
      const r = await s.call(`/f?how=${how}`);
      assert.equal(r.status, 500, how);
    }
    assert.equal(up.hits.length, 0);
  });

  it('a responseModifier that throws gives 500, or the errorHandler answer with its message', async () => {
    const s = await scope(gw, 'guard-response-modifier');
    await s.service('echo', [echo.url]);
    await s.module('plain', `export async function responseModifier(ctx: any) { await ctx.upstream().readJson(); throw new Error('bad rewrite'); }\n`);
    await s.module('handled', `export function responseModifier(ctx: any) { throw new Error('bad rewrite'); }\n${REPORTING_ERROR_HANDLER}`);
    await s.route({ name: 'plain', paths: ['/plain'], methods: ['GET'], service: 'echo', modules: ['plain'] });
    await s.route({ name: 'handled', paths: ['/handled'], methods: ['GET'], service: 'echo', modules: ['handled'] });
    const plain = await s.call('/plain');
    assert.equal(plain.status, 500);
    assert.doesNotMatch(plain.text, /data/, 'the upstream body is not sent');
    const handled = await s.call('/handled');
    assert.equal(handled.status, 503);
    assert.deepEqual(handled.json(), { handled: true, message: 'bad rewrite' });
  });

  it('an errorHandler that itself throws gives 500', async () => {
    const s = await failing(
      'guard-error-handler-throws',
      `export function requestHandler(ctx: any) { throw new Error('first'); }
export function errorHandler(ctx: any, err: any) { throw new Error('second'); }
`,
      [{ path: '/h' }],
    );
    const r = await s.call('/h');
    assert.equal(r.status, 500);
    const s2 = await failing(
      'guard-error-handler-rejects',
      `export function requestHandler(ctx: any) { throw new Error('first'); }
export async function errorHandler(ctx: any, err: any) { await null; throw new Error('second'); }
`,
      [{ path: '/h' }],
    );
    assert.equal((await s2.call('/h')).status, 500);
    await stillServing(s2);
  });

  it('an errorHandler that writes nothing leaves the default answer', async () => {
    const s = await failing(
      'guard-error-handler-silent',
      `export function requestHandler(ctx: any) { throw new Error('first'); }
export function errorHandler(ctx: any, err: any) { ctx.response().headers.set('X-Seen', err.message); }
`,
      [{ path: '/h' }],
    );
    const r = await s.call('/h');
    assert.equal(r.status, 500);
  });
});

describe('time budget (module_timeout 200ms)', { timeout: 60_000 }, () => {
  it('a requestHandler, requestModifier or responseModifier that takes too long gives 504 soon after the budget', async () => {
    const s = await failing(
      'guard-timeout',
      `import { sleep } from 'dgate';
export async function requestModifier(ctx: any) { if (ctx.query().has('reqmod')) await sleep(3); }
export async function responseModifier(ctx: any) { if (ctx.query().has('resmod')) await sleep(3); }
export async function requestHandler(ctx: any) { if (ctx.query().has('handler')) await sleep(3); ctx.response().json({ quick: true }); }
`,
      [{ path: '/handler' }, { path: '/svc/*', service: true }],
    );
    for (const path of ['/handler?handler=1', '/handler?reqmod=1', '/svc/x?reqmod=1', '/svc/x?resmod=1']) {
      const r = await s.call(path, { timeoutMs: 2500 });
      assert.equal(r.status, 504, path);
      assert.ok(r.ms < 1500, `${path} answered after ${Math.round(r.ms)} ms`);
    }
    const quick = await s.call('/handler');
    assert.equal(quick.status, 200);
    assert.deepEqual(quick.json(), { quick: true });
    assert.equal((await s.call('/svc/y')).status, 200);
    await stillServing(s);
  });

  it('errorHandler receives the time-budget error and may answer instead of the 504', async () => {
    const s = await failing(
      'guard-timeout-handler',
      `import { sleep } from 'dgate';
export async function requestHandler(ctx: any) { await sleep(3); }
${REPORTING_ERROR_HANDLER}`,
      [{ path: '/h' }],
    );
    const r = await s.call('/h', { timeoutMs: 2500 });
    assert.equal(r.status, 503);
    assert.match(r.json().message, /200 ?ms/);
  });

  it('a function that resumes after its budget expired cannot disturb the answer already sent', async () => {
    const resumed = await startUpstream();
    upstreams.push(resumed);
    const s = await failing(
      'guard-late-write',
      `import { sleep } from 'dgate';
export async function requestHandler(ctx: any) {
  await sleep(0.4);
  try {
    ctx.response().status(200).json({ late: true });
  } finally {
    await fetch(${JSON.stringify(resumed.url + '/resumed')});
  }
}
`,
      [{ path: '/h' }],
    );
    const r = await s.call('/h');
    assert.equal(r.status, 504);
    await until(() => resumed.hits.length > 0, 'the late write to have been tried');
    await stillServing(s);
  });
});

describe('unreachable upstream', { timeout: 60_000 }, () => {
  it('gives 502 Bad Gateway without errorHandler, and the errorHandler answer (with the error message) with one', async () => {
    const s = await scope(gw, 'guard-upstream-down');
    await s.service('down', [REFUSING_URL]);
    await s.module('noop', `export function requestModifier(ctx: any) { ctx.request().headers.set('X-Noop', '1'); }\n`);
    await s.module('handler', REPORTING_ERROR_HANDLER);
    await s.route({ name: 'plain', paths: ['/plain'], methods: ['GET'], service: 'down', modules: ['noop'] });
    await s.route({ name: 'handled', paths: ['/handled'], methods: ['GET'], service: 'down', modules: ['noop', 'handler'] });

    const plain = await s.call('/plain');
    assert.equal(plain.status, 502);
    assert.match(plain.text, /Bad Gateway/);

    const handled = await s.call('/handled');
    assert.equal(handled.status, 503);
    assert.equal(handled.json().handled, true);
    assert.match(handled.json().message, /ECONNREFUSED|connect/i);
  });

  it('a fetchUpstream URL where nothing listens goes the same way', async () => {
    const s = await scope(gw, 'guard-fetch-upstream-down');
    await s.service('echo', [echo.url]);
    const dead = REFUSING_URL;
    await s.module('m', `export function fetchUpstream(ctx: any) { return ${JSON.stringify(dead)}; }\n`);
    await s.route({ name: 'r', paths: ['/r'], methods: ['GET'], service: 'echo', modules: ['m'] });
    const r = await s.call('/r');
    assert.equal(r.status, 502);
    assert.equal(header(r, 'content-type'), 'text/plain; charset=utf-8');
  });
});

describe('retired module versions', () => {
  it('stops the timers of a module version whose write was refused', async () => {
    let hits = 0;
    let control = 0;
    const ticks = http.createServer((req, res) => {
      if (req.url === '/control') control++;
      else hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => ticks.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(ticks.address() as AddressInfo).port}`;
    const url = `${base}/tick`;
    const gw2 = await startTestGateway();
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    try {
      // Each tick fetches unless its previous fetch is still on its way: at most one in flight.
      const ticker = (to: string) => `let busy = false;\nsetInterval(() => { if (busy) return; busy = true; const done = () => { busy = false; }; fetch(${JSON.stringify(to)}).then(done, done); }, 10);`;
      // An accepted module ticking the same way: the clock the refused version's ticks are counted against.
      const clock = `${ticker(`${base}/control`)}\nexport function requestHandler(ctx: any) { ctx.response().json({}); }`;
      await gw2.put('module', { name: 'clock', payload: b64(clock) });
      await gw2.put('route', { name: 'clock', paths: ['/clock'], methods: ['GET'], modules: ['clock'] });
      await gw2.put('module', { name: 'ticker', payload: b64('export function requestHandler(ctx: any) { ctx.response().json({}); }') });
      await gw2.put('route', { name: 'r', paths: ['/r'], methods: ['GET'], modules: ['ticker'] });
      // Loading this version starts an interval, then its top-level code throws: the write is refused.
      const bad = `${ticker(url)}\nthrow new Error('refused');\nexport function requestHandler(ctx: any) {}`;
      const res = await gw2.admin('PUT', '/api/v1/module', { name: 'ticker', payload: b64(bad) });
      assert.equal(res.status, 400);
      await until(() => hits > 0, 'the refused version to run its top-level code');
      // The next accepted write retires what refused writes left behind.
      await gw2.put('namespace', { name: 'other' });
      // One tick may still be on its way; over the next 20 ticks of the clock, no more come.
      const retiredAt = hits;
      const from = control;
      await until(() => control >= from + 20, '20 ticks of the clock module');
      assert.ok(hits <= retiredAt + 1, `the interval of the refused version stopped: ${hits - retiredAt} ticks after it was retired`);
    } finally {
      // A new version of the clock retires the ticking one (closing the gateway leaves module timers alone).
      await gw2.admin('PUT', '/api/v1/module', { name: 'clock', payload: b64('export function requestHandler(ctx: any) { ctx.response().json({}); }') });
      await gw2.close();
      ticks.close();
      ticks.closeAllConnections();
    }
  });
});

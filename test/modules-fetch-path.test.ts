/**
 * Module routes with a service and no fetchUpstream, as a bodyless request takes them: on Bun
 * they are served from the fetch API's objects (src/proxy/fetch-module-route.ts), on Node by the
 * pipeline's module path; module code and clients see the same either way. A request with a
 * body on the same route takes the pipeline's path on both runtimes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { closeGateway, header, scope, sendJson, startUpstream, type Scope, type Upstream } from './support/modules-harness.js';

let gw: TestGateway;
let up: Upstream;
let s: Scope;

const MODULE = `
export function requestModifier(ctx: any) {
  const req = ctx.request();
  if (req.query.get('short') === '1') {
    ctx.response().status(418).json({ short: true, method: req.method });
    return;
  }
  req.headers.set('X-Req', '1');
  req.headers.set('X-Seen', [req.method, req.url, ctx.pathParam('id'), req.query.get('q'), req.headers.get('x-client') ?? '-', ctx.id].join('|'));
  if (req.query.get('rewrite') === '1') req.query.set('q', 'changed');
  if (req.query.get('xff') === '1') req.headers.set('X-Forwarded-For', '10.0.0.1');
}
export function responseModifier(ctx: any) {
  const u = ctx.upstream();
  if (ctx.request().query.get('boom') === '1') throw new Error('modifier failed on purpose');
  u.headers.set('X-Res', '1');
  u.headers.set('X-Upstream-Status', String(u.statusCode));
  u.headers.del('X-Drop-Me');
  ctx.response().headers.set('X-Own', 'yes');
  if (ctx.request().query.get('status') === '1') u.status(299);
}
export function errorHandler(ctx: any, err: any) {
  ctx.response().status(531).json({ handled: err?.message ?? String(err) });
}
`;

const ASYNC_MODULE = `
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
export async function requestModifier(ctx: any) {
  await tick();
  ctx.request().headers.set('X-Async-Req', 'done');
}
export async function responseModifier(ctx: any) {
  await tick();
  const u = ctx.upstream();
  u.headers.set('X-Async-Res', 'done');
  if (ctx.request().query.get('read') === '1') u.writeJson({ read: JSON.parse(await u.readText()) });
}
`;

before(async () => {
  gw = await startTestGateway();
  up = await startUpstream((hit, res) => sendJson(res, 200, { path: hit.url, method: hit.method, body: hit.body }, { 'X-Drop-Me': 'upstream', 'X-Upstream': 'kept' }));
  s = await scope(gw, 'fetch-path');
  await s.service('svc', [up.url]);
  await s.module('m', MODULE);
  await s.module('am', ASYNC_MODULE);
  await s.route({ name: 'r', paths: ['/items/{id}'], service: 'svc', modules: ['m'] });
  await s.route({ name: 'ar', paths: ['/async/*'], service: 'svc', modules: ['am'] });
});
after(async () => {
  await closeGateway(gw);
  await up?.close();
});

/** the upstream's request to `path` (the last one) */
function hitOf(path: string) {
  const hit = [...up.hits].reverse().find((h) => h.url === path);
  assert.ok(hit !== undefined, `the upstream got ${path}`);
  return hit;
}

describe('module routes served from a bodyless request', { timeout: 60_000 }, () => {
  it('header edits go both ways; module code sees the request as the client sent it', async () => {
    const r = await s.call('/items/42?q=v', { headers: { 'X-Client': 'c1', 'X-Request-Id': 'fixed-id-1' } });
    assert.equal(r.status, 200);
    const hit = hitOf('/items/42?q=v');
    assert.equal(hit.headers['x-req'], '1');
    assert.equal(hit.headers['x-seen'], 'GET|/items/42?q=v|42|v|c1|fixed-id-1');
    assert.equal(hit.headers['x-request-id'], 'fixed-id-1');
    assert.equal(hit.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(hit.headers['x-forwarded-host'], s.host);
    assert.equal(header(r, 'x-res'), '1');
    assert.equal(header(r, 'x-upstream-status'), '200');
    assert.equal(header(r, 'x-own'), 'yes');
    assert.equal(header(r, 'x-upstream'), 'kept');
    assert.equal(header(r, 'x-drop-me'), undefined);
    assert.equal(header(r, 'x-request-id'), 'fixed-id-1');
    assert.deepEqual(r.json(), { path: '/items/42?q=v', method: 'GET', body: '' });
  });

  it('a query changed by a requestModifier and a status set by a responseModifier are what upstream and client get', async () => {
    const r = await s.call('/items/7?q=v&rewrite=1&status=1');
    assert.equal(r.status, 299);
    assert.equal(r.json().path, '/items/7?q=changed&rewrite=1&status=1');
    assert.ok(typeof header(r, 'x-request-id') === 'string' && header(r, 'x-request-id') !== '', 'a request id is given');
  });

  it('a forwarding header set by a requestModifier is extended as the client\'s would be', async () => {
    const r = await s.call('/items/3?xff=1', { headers: { 'X-Forwarded-For': '192.0.2.1' } });
    assert.equal(r.status, 200);
    const hit = hitOf('/items/3?xff=1');
    assert.equal(hit.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(hit.headers['x-req'], '1');
    assert.equal(hit.headers['host'], new URL(up.url).host);
  });

  it('a requestModifier that answers short-circuits: no upstream call', async () => {
    const before = up.hits.length;
    const r = await s.call('/items/1?short=1');
    assert.equal(r.status, 418);
    assert.deepEqual(r.json(), { short: true, method: 'GET' });
    assert.equal(header(r, 'content-type'), 'application/json');
    assert.ok(header(r, 'x-request-id'));
    assert.equal(up.hits.length, before, 'the upstream was not called');
  });

  it('a throwing responseModifier goes to errorHandler', async () => {
    const r = await s.call('/items/9?boom=1');
    assert.equal(r.status, 531);
    assert.deepEqual(r.json(), { handled: 'modifier failed on purpose' });
    assert.equal(header(r, 'x-res'), undefined, "the upstream's answer is dropped");
  });

  it('asynchronous modifiers are awaited, including one that reads and replaces the body', async () => {
    const r = await s.call('/async/a');
    assert.equal(r.status, 200);
    assert.equal(hitOf('/async/a').headers['x-async-req'], 'done');
    assert.equal(header(r, 'x-async-res'), 'done');
    const read = await s.call('/async/b?read=1');
    assert.equal(read.status, 200);
    assert.deepEqual(read.json(), { read: { path: '/async/b?read=1', method: 'GET', body: '' } });
    assert.equal(header(read, 'content-length'), String(Buffer.byteLength(read.text)));
  });

  it('a POST with a body on the same route goes through the modules too', async () => {
    const r = await s.call('/items/5?q=p', { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { path: '/items/5?q=p', method: 'POST', body: 'payload' });
    const hit = hitOf('/items/5?q=p');
    assert.equal(hit.headers['x-req'], '1');
    assert.equal(hit.headers['x-seen']?.toString().split('|').slice(0, 4).join('|'), 'POST|/items/5?q=p|5|p');
    assert.equal(header(r, 'x-res'), '1');
    assert.equal(header(r, 'x-own'), 'yes');
  });

  it('an upstream that cannot be reached answers 502 through the module route', async () => {
    const dead = await scope(gw, 'fetch-path-dead');
    await dead.service('svc', ['http://127.0.0.1:1']);
    await dead.module('m', MODULE);
    await dead.route({ name: 'r', paths: ['/items/{id}'], service: 'svc', modules: ['m'] });
    const r = await dead.call('/items/1');
    assert.equal(r.status, 531, "the errorHandler's answer");
  });
});

/** Module code reading the request and the upstream's answer around the exchange (the upstream's headers are edited in place on Bun). */
const VIEW_MODULE = `
let late: any = null;
export function requestModifier(ctx: any) {
  ctx.request().headers.set('X-Req', '1');
}
export function responseModifier(ctx: any) {
  const u = ctx.upstream();
  u.headers.set('X-Res', '1');
  if (ctx.query().get('own') === '1') ctx.response().headers.set('X-Own', 'yes');
  // the request as module code sees it once it went upstream
  u.headers.set('X-Request-Seen', JSON.stringify(ctx.request().headers.toJSON()));
  // the upstream's headers read after its answer went on
  late = null;
  setTimeout(() => { late = u.headers.toJSON(); }, 0);
}
export function requestHandler(ctx: any) {
  ctx.response().json({ late });
}
`;

/** a route /v/* with VIEW_MODULE to a fresh upstream, and /late answering what the last late read saw */
async function viewScope(on: TestGateway, ns: string): Promise<{ s: Scope; up: Upstream }> {
  const upstream = await startUpstream((hit, res) => sendJson(res, 200, { path: hit.url }, { 'X-Upstream': 'kept', 'X-Global': 'upstream' }));
  const vs = await scope(on, ns);
  await vs.service('svc', [upstream.url]);
  await vs.module('mv', VIEW_MODULE);
  await vs.route({ name: 'v', paths: ['/v/*'], service: 'svc', modules: ['mv'] });
  await vs.route({ name: 'late', paths: ['/late'], modules: ['mv'] });
  return { s: vs, up: upstream };
}

/** what the module's late read of ctx.upstream().headers saw (names lowercased), once it ran */
async function lateRead(vs: Scope): Promise<Record<string, string[]>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const r = await vs.call('/late');
    assert.equal(r.status, 200);
    const late = r.json().late as Record<string, string[]> | null;
    if (late !== null) return Object.fromEntries(Object.entries(late).map(([k, v]) => [k.toLowerCase(), v]));
    if (Date.now() > deadline) throw new Error('the late read did not run within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const lower = (o: Record<string, string[]>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));

describe('what module code reads around the upstream exchange', { timeout: 60_000 }, () => {
  it('a responseModifier reads the request as the client sent it (identified), not the headers that went upstream', async () => {
    const { s: vs, up: upstream } = await viewScope(gw, 'fetch-path-view');
    try {
      const r = await vs.call('/v/a', { headers: { 'X-Client': 'c1', traceparent: 'not-a-trace', tracestate: 'k=v', Connection: 'keep-alive, X-Hop', 'X-Hop': 'h' } });
      assert.equal(r.status, 200);
      const id = header(r, 'x-request-id');
      assert.ok(id !== undefined && id !== '', 'a request id was given');
      const hit = upstream.hits.find((h) => h.url === '/v/a')!;
      assert.equal(hit.headers['x-req'], '1');
      assert.equal(hit.headers['x-request-id'], id);
      assert.equal(hit.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(hit.headers['traceparent'], undefined, 'an invalid traceparent is dropped');
      assert.equal(hit.headers['tracestate'], undefined, 'with its tracestate');
      assert.equal(hit.headers['x-hop'], undefined, 'a header the Connection header names is hop-by-hop');
      const seen = lower(JSON.parse(header(r, 'x-request-seen')!));
      assert.deepEqual(seen['x-client'], ['c1']);
      assert.deepEqual(seen['x-req'], ['1'], "module code's own edit");
      assert.deepEqual(seen['x-request-id'], [id], 'the request id as identified');
      assert.deepEqual(seen['host'], [vs.host]);
      assert.deepEqual(seen['x-hop'], ['h'], 'the client sent it');
      for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'x-dgate-route', 'x-dgate-namespace', 'x-dgate-service', 'traceparent', 'tracestate']) {
        assert.equal(seen[name], undefined, `${name} is not the request's`);
      }
      // a valid traceparent is the request's as it came
      const trace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const kept = await vs.call('/v/b', { headers: { traceparent: trace, 'X-Request-Id': 'client-id-1' } });
      const seenKept = lower(JSON.parse(header(kept, 'x-request-seen')!));
      assert.deepEqual(seenKept['traceparent'], [trace]);
      assert.deepEqual(seenKept['x-request-id'], ['client-id-1']);
    } finally {
      await upstream.close();
    }
  });

  it('a traceparent the gateway started is the one module code reads and the upstream gets', async () => {
    const tracing = await startTestGateway({ proxy: { tracing: { start_traceparent: true } } });
    const { s: vs, up: upstream } = await viewScope(tracing, 'fetch-path-trace');
    try {
      const r = await vs.call('/v/t', { headers: { tracestate: 'k=v' } });
      assert.equal(r.status, 200);
      const sent = upstream.hits.find((h) => h.url === '/v/t')!.headers['traceparent'];
      assert.match(String(sent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      const seen = lower(JSON.parse(header(r, 'x-request-seen')!));
      assert.deepEqual(seen['traceparent'], [sent]);
      assert.equal(seen['tracestate'], undefined, 'a tracestate without its traceparent is dropped');
    } finally {
      await upstream.close();
      await closeGateway(tracing);
    }
  });

  it("ctx.upstream().headers read after the answer went on lists the upstream's headers, not the client's answer", async () => {
    const withGlobal = await startTestGateway({ proxy: { global_headers: { 'X-Global': 'gateway' } } });
    const cases: Array<[TestGateway, string, string]> = [
      [gw, 'fetch-path-late', '/v/x'],
      [gw, 'fetch-path-late-own', '/v/x?own=1'],
      [withGlobal, 'fetch-path-late-global', '/v/x'],
    ];
    try {
      for (const [on, ns, path] of cases) {
        const { s: vs, up: upstream } = await viewScope(on, ns);
        try {
          const r = await vs.call(path);
          assert.equal(r.status, 200, ns);
          assert.equal(header(r, 'x-res'), '1', ns);
          const late = await lateRead(vs);
          assert.deepEqual(late['x-upstream'], ['kept'], ns);
          assert.deepEqual(late['x-global'], ['upstream'], `${ns}: the upstream's value only`);
          assert.deepEqual(late['x-res'], ['1'], `${ns}: module code's edit`);
          assert.equal(late['x-own'], undefined, `${ns}: ctx.response() headers are the client's answer's`);
          assert.equal(late['x-request-id'], undefined, `${ns}: the answer's request id is the client's answer's`);
          assert.equal(late['connection'], undefined, `${ns}: hop-by-hop`);
          assert.deepEqual(late['content-type'], ['application/json'], ns);
          if (path.includes('own=1')) assert.equal(header(r, 'x-own'), 'yes');
          if (on === withGlobal) assert.equal(header(r, 'x-global'), 'gateway, upstream', 'the global header goes first on the answer');
        } finally {
          await upstream.close();
        }
      }
    } finally {
      await closeGateway(withGlobal);
    }
  });
});

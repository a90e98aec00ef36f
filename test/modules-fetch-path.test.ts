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

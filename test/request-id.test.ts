/**
 * Request ids and W3C trace context through the real dgate-server with proxy worker processes:
 * X-Request-Id kept, generated or replaced, seen by the upstream and by module code (ctx.id,
 * the request headers, module log lines) and returned on every answer, gateway errors included;
 * traceparent passed, dropped when invalid, started when configured.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { request } from './support/http.js';
import { REFUSING_URL } from './support/refusing.js';
import { putJson, startServerProcess, stop, type ServerProcess } from './support/server-process.js';
import { until } from './support/until.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const VALID_TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** a requestModifier that shows what module code sees, and a requestHandler that answers itself */
const MODULE = `export function requestModifier(ctx: any) {
  ctx.request().headers.set('X-Module-Saw-Id', ctx.id);
  ctx.request().headers.set('X-Module-Saw-Header', ctx.request().headers.get('X-Request-Id') ?? 'none');
  console.log('modifier ran for ' + ctx.pathParam('tag'));
}
`;
const HANDLER = `export function requestHandler(ctx: any) {
  ctx.response().json({ id: ctx.id });
}
`;

interface Seen {
  status: number;
  /** X-Request-Id of the answer */
  answerId: string | undefined;
  /** headers the echo upstream received, lower-case name -> values */
  upstream: Record<string, string[]>;
  text: string;
}

async function get(base: string, path: string, headers: Record<string, string | string[]> = {}): Promise<Seen> {
  const res = await request(base + path, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await res.body.text();
  const upstream: Record<string, string[]> = {};
  if (res.statusCode === 200 && text.startsWith('{"data"')) {
    for (const [name, values] of Object.entries(JSON.parse(text).data.req_headers as Record<string, string[]>)) {
      (upstream[name.toLowerCase()] ??= []).push(...values);
    }
  }
  const id = res.headers['x-request-id'];
  return { status: res.statusCode, answerId: Array.isArray(id) ? id.join(', ') : id, upstream, text };
}

let echo: EchoServer;
/** an upstream that answers with an X-Request-Id of its own */
let ownId: EchoServer;
before(async () => {
  echo = await startEchoServer();
  ownId = await startEchoServer({ globalHeaders: { 'X-Request-Id': 'upstream-own' } });
});
after(async () => {
  await echo.close();
  await ownId.close();
});

async function setUp(server: ServerProcess, dead: string): Promise<void> {
  const put = async (kind: string, body: unknown) => assert.equal(await putJson(server.adminUrl, kind, body), 201, `PUT ${kind}`);
  await put('service', { name: 'echo', urls: [echo.url] });
  await put('service', { name: 'dead', urls: [dead] });
  await put('service', { name: 'own', urls: [ownId.url] });
  await put('route', { name: 'own', paths: ['/own'], methods: ['GET'], service: 'own' });
  await put('module', { name: 'seer', payload: Buffer.from(MODULE).toString('base64'), moduleType: 'typescript' });
  await put('module', { name: 'handler', payload: Buffer.from(HANDLER).toString('base64'), moduleType: 'typescript' });
  await put('route', { name: 'echo', paths: ['/echo/*'], methods: ['GET'], service: 'echo' });
  await put('route', { name: 'dead', paths: ['/dead'], methods: ['GET'], service: 'dead' });
  await put('route', { name: 'seen', paths: ['/seen/{tag}'], methods: ['GET'], service: 'echo', modules: ['seer'] });
  await put('route', { name: 'answer', paths: ['/answer'], methods: ['GET'], modules: ['handler'] });
}

describe('request ids and trace context (defaults, 2 worker processes)', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({
      yaml: (p) => `
log_level: info
storage: { type: memory }
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 2 }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
    });
    await setUp(server, REFUSING_URL);
  });
  after(async () => {
    if (server !== undefined) await stop(server);
  });

  it('gives a request without an id a new one, sent upstream and returned to the client', async () => {
    const a = await get(server.proxyUrl, '/echo/a');
    assert.equal(a.status, 200);
    assert.match(a.answerId ?? '', UUID);
    assert.deepEqual(a.upstream['x-request-id'], [a.answerId], 'the upstream got the same id, once');
    const b = await get(server.proxyUrl, '/echo/b');
    assert.notEqual(b.answerId, a.answerId, 'each request its own id');
  });

  it("keeps a client's valid id and replaces an invalid one", async () => {
    const kept = await get(server.proxyUrl, '/echo/kept', { 'X-Request-Id': 'client-req.42:a/b+c=d@e_f' });
    assert.equal(kept.answerId, 'client-req.42:a/b+c=d@e_f');
    assert.deepEqual(kept.upstream['x-request-id'], ['client-req.42:a/b+c=d@e_f']);

    for (const bad of ['has space', 'x'.repeat(129), 'quote"d', 'semi;colon', '']) {
      const r = await get(server.proxyUrl, '/echo/bad', { 'X-Request-Id': bad });
      assert.match(r.answerId ?? '', UUID, `${JSON.stringify(bad.slice(0, 20))} replaced`);
      assert.deepEqual(r.upstream['x-request-id'], [r.answerId], `${JSON.stringify(bad.slice(0, 20))}: only the new id goes upstream`);
    }
    const twice = await get(server.proxyUrl, '/echo/twice', { 'X-Request-Id': ['dup-a', 'dup-b'] });
    assert.match(twice.answerId ?? '', UUID, 'two X-Request-Id headers are replaced by one new id');
    assert.deepEqual(twice.upstream['x-request-id'], [twice.answerId]);
    const longest = 'y'.repeat(128);
    assert.equal((await get(server.proxyUrl, '/echo/long', { 'X-Request-Id': longest })).answerId, longest, '128 characters are kept');
  });

  it("answers with the gateway's id in place of an upstream's own X-Request-Id", async () => {
    const r = await get(server.proxyUrl, '/own', { 'X-Request-Id': 'gateway-side' });
    assert.equal(r.status, 200);
    assert.equal(r.answerId, 'gateway-side', 'one X-Request-Id, the one the upstream was sent');
    assert.deepEqual(r.upstream['x-request-id'], ['gateway-side']);
  });

  it('answers gateway errors (404, 502) with the request id', async () => {
    const missing = await get(server.proxyUrl, '/nowhere', { 'X-Request-Id': 'err-404' });
    assert.equal(missing.status, 404);
    assert.equal(missing.answerId, 'err-404');
    const generated = await get(server.proxyUrl, '/nowhere');
    assert.match(generated.answerId ?? '', UUID);
    const bad = await get(server.proxyUrl, '/dead', { 'X-Request-Id': 'err-502' });
    assert.equal(bad.status, 502);
    assert.equal(bad.answerId, 'err-502');
  });

  it('shows module code the same id (ctx.id and the request headers), in module log lines and on module answers', async () => {
    const r = await get(server.proxyUrl, '/seen/tag-1', { 'X-Request-Id': 'from-client-1' });
    assert.equal(r.status, 200);
    assert.equal(r.answerId, 'from-client-1');
    assert.deepEqual(r.upstream['x-module-saw-id'], ['from-client-1']);
    assert.deepEqual(r.upstream['x-module-saw-header'], ['from-client-1']);
    assert.deepEqual(r.upstream['x-request-id'], ['from-client-1']);

    const generated = await get(server.proxyUrl, '/seen/tag-2');
    assert.match(generated.answerId ?? '', UUID);
    assert.deepEqual(generated.upstream['x-module-saw-id'], [generated.answerId]);

    const answered = await get(server.proxyUrl, '/answer', { 'X-Request-Id': 'module-answer' });
    assert.equal(answered.status, 200);
    assert.equal(answered.answerId, 'module-answer');
    assert.deepEqual(JSON.parse(answered.text), { id: 'module-answer' });

    // the module's console line, in the serving worker's log, names the request
    let line: Record<string, unknown> | undefined;
    await until(() => {
      line = server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l['msg'] === 'modifier ran for tag-1');
      return line !== undefined;
    }, 'the module log line');
    assert.equal(line!['request_id'], 'from-client-1');
    assert.equal(line!['route'], 'seen');
  });

  it('passes a valid traceparent (and its tracestate) unchanged and starts none when absent', async () => {
    const r = await get(server.proxyUrl, '/echo/tp', { traceparent: VALID_TP, tracestate: 'vendor=abc' });
    assert.deepEqual(r.upstream['traceparent'], [VALID_TP]);
    assert.deepEqual(r.upstream['tracestate'], ['vendor=abc']);
    const future = 'cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra';
    assert.deepEqual((await get(server.proxyUrl, '/echo/tp', { traceparent: future })).upstream['traceparent'], [future], 'a later version with more fields');
    assert.equal((await get(server.proxyUrl, '/echo/none')).upstream['traceparent'], undefined);
  });

  it('drops an invalid traceparent with its tracestate', async () => {
    for (const bad of [
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', // version 00 has 4 fields
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // zero parent id
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
      'garbage',
    ]) {
      const r = await get(server.proxyUrl, '/echo/tp-bad', { traceparent: bad, tracestate: 'vendor=abc' });
      assert.equal(r.status, 200);
      assert.equal(r.upstream['traceparent'], undefined, `${bad} not forwarded`);
      assert.equal(r.upstream['tracestate'], undefined, `tracestate of ${bad} not forwarded`);
    }
  });
});

describe('request ids off, traceparent started (proxy.request_id.enabled: false, proxy.tracing.start_traceparent: true)', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({
      yaml: (p) => `
log_level: warn
storage: { type: memory }
proxy:
  host: 127.0.0.1
  port: ${p.proxy}
  workers: 1
  request_id: { enabled: false }
  tracing: { start_traceparent: true }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
    });
    await setUp(server, REFUSING_URL);
  });
  after(async () => {
    if (server !== undefined) await stop(server);
  });

  it('passes the client X-Request-Id untouched and answers without one', async () => {
    const r = await get(server.proxyUrl, '/echo/x', { 'X-Request-Id': 'not valid but untouched' });
    assert.deepEqual(r.upstream['x-request-id'], ['not valid but untouched']);
    assert.equal(r.answerId, undefined);
    const none = await get(server.proxyUrl, '/echo/y');
    assert.equal(none.upstream['x-request-id'], undefined);
    assert.equal(none.answerId, undefined);
    assert.equal((await get(server.proxyUrl, '/nowhere')).answerId, undefined);
  });

  it('starts a trace when traceparent is absent or invalid, and keeps a valid one', async () => {
    const a = await get(server.proxyUrl, '/echo/a', { tracestate: 'orphan=1' });
    const [started] = a.upstream['traceparent'] ?? [];
    assert.match(started ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(a.upstream['tracestate'], undefined, 'a tracestate without its traceparent is not sent with a new trace');
    const b = await get(server.proxyUrl, '/echo/b');
    assert.notEqual(b.upstream['traceparent']?.[0].slice(3, 35), started!.slice(3, 35), 'a new trace id per request');
    const replaced = await get(server.proxyUrl, '/echo/c', { traceparent: 'nonsense' });
    assert.match(replaced.upstream['traceparent']?.[0] ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.deepEqual((await get(server.proxyUrl, '/echo/d', { traceparent: VALID_TP })).upstream['traceparent'], [VALID_TP]);
  });
});

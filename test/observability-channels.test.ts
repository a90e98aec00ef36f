/**
 * The request path publishes on the named channels (src/observability/channels.ts): one event
 * per answered request with everything it resolved, one per module function call, one per
 * upstream attempt (retries included), one per applied revision, and connections on Node.
 * Observed here in process (proxy.workers: 0) with real sockets, on each runtime.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { channels, type HookEvent, type RequestEndEvent, type UpstreamEvent, type RevisionAppliedEvent, type ConnectionEvent } from '../src/observability/channels.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { onBun } from './support/runtime.js';
import { REFUSING_URL } from './support/refusing.js';
import { until } from './support/until.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('request path channels', () => {
  let gw: TestGateway;
  let upstream: Server;
  let upstreamOrigin: string;
  let deadOrigin: string;
  const ends: RequestEndEvent[] = [];
  const hooks: HookEvent[] = [];
  const ups: UpstreamEvent[] = [];
  const revs: RevisionAppliedEvent[] = [];
  const conns: ConnectionEvent[] = [];
  let starts = 0;
  const onStart = () => starts++;
  const onEnd = (e: RequestEndEvent) => ends.push(e);
  const onHook = (e: HookEvent) => hooks.push(e);
  const onUp = (e: UpstreamEvent) => ups.push(e);
  const onRev = (e: RevisionAppliedEvent) => revs.push(e);
  const onConn = (e: ConnectionEvent) => conns.push(e);

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '5' });
        res.end('hello');
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamOrigin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    deadOrigin = REFUSING_URL;
    channels.requestStart.subscribe(onStart);
    channels.requestEnd.subscribe(onEnd);
    channels.hook.subscribe(onHook);
    channels.upstream.subscribe(onUp);
    channels.revisionApplied.subscribe(onRev);
    channels.connection.subscribe(onConn);
    gw = await startTestGateway();
    await gw.put('service', { name: 'up', urls: [upstreamOrigin] });
    await gw.put('service', { name: 'flaky', urls: [deadOrigin, upstreamOrigin], retries: 2 });
    await gw.put('route', { name: 'pass', paths: ['/pass/*'], methods: ['*'], service: 'up' });
    await gw.put('route', { name: 'retry', paths: ['/retry'], methods: ['GET'], service: 'flaky' });
    await gw.put('module', { name: 'mod', payload: b64(`export function requestModifier(ctx) { ctx.request().headers.set('x-m', '1'); }\nexport async function responseModifier(ctx) { await null; }`) });
    await gw.put('route', { name: 'withmod', paths: ['/mod'], methods: ['GET'], service: 'up', modules: ['mod'] });
    await gw.put('module', { name: 'boom', payload: b64(`export function requestHandler(ctx) { throw new Error('boom'); }`) });
    await gw.put('route', { name: 'fails', paths: ['/fails'], methods: ['GET'], modules: ['boom'] });
  });

  after(async () => {
    await gw?.close();
    await new Promise((r) => upstream.close(r));
    channels.requestStart.unsubscribe(onStart);
    channels.requestEnd.unsubscribe(onEnd);
    channels.hook.unsubscribe(onHook);
    channels.upstream.unsubscribe(onUp);
    channels.revisionApplied.unsubscribe(onRev);
    channels.connection.unsubscribe(onConn);
  });

  it('publishes a revision-applied event for every write, with its time to apply', () => {
    const last = revs.at(-1)!;
    assert.equal(last.rev, gw.gateway.writer.state.rev);
    assert.ok(revs.every((r) => r.applyMs >= 0 && Number.isFinite(r.applyMs)));
  });

  /** One proxied request, and the request-end event it published (every field). */
  async function endOf(path: string, init: Parameters<typeof gw.proxy>[1], expected: { method: string; bytesIn: number; requestId: string }) {
    ends.length = 0;
    const before = starts;
    const r = await gw.proxy(path, init);
    assert.equal(r.status, 200);
    await until(() => ends.length === 1, 'the request end event');
    const e = ends[0]!;
    assert.equal(starts, before + 1);
    assert.deepEqual(
      { namespace: e.namespace, route: e.route, service: e.service, upstream: e.upstream, method: e.method, status: e.status, bytesIn: e.bytesIn, bytesOut: e.bytesOut, moduleMs: e.moduleMs, requestId: e.requestId },
      { namespace: 'default', route: 'pass', service: 'up', upstream: upstreamOrigin, status: 200, bytesOut: 5, moduleMs: 0, ...expected },
    );
    assert.ok(e.upstreamMs > 0 && e.totalMs >= e.upstreamMs, `upstream ${e.upstreamMs} ms within total ${e.totalMs} ms`);
  }

  it('publishes the end of a proxied request with every field', async () => {
    await endOf('/pass/x?q=1', { method: 'POST', body: 'abcdefg', headers: { 'x-request-id': 'rid-1' } }, { method: 'POST', bytesIn: 7, requestId: 'rid-1' });
  });

  it('publishes the end of a proxied request without a body (the passthrough route) with every field', async () => {
    await endOf('/pass/y', { headers: { 'x-request-id': 'rid-2' } }, { method: 'GET', bytesIn: 0, requestId: 'rid-2' });
  });

  it('publishes a gateway answer (no route) with the namespace and no route', async () => {
    ends.length = 0;
    const r = await gw.proxy('/nowhere');
    assert.equal(r.status, 404);
    await until(() => ends.length === 1, 'the request end event');
    const e = ends[0]!;
    assert.equal(e.namespace, 'default');
    assert.equal(e.route, null);
    assert.equal(e.service, null);
    assert.equal(e.upstream, null);
    assert.equal(e.status, 404);
    assert.equal(e.bytesOut, Buffer.byteLength('404 page not found\n'));
  });

  it('publishes each module function call with its module and hook, and the module time of the request', async () => {
    ends.length = 0;
    hooks.length = 0;
    const r = await gw.proxy('/mod');
    assert.equal(r.status, 200);
    await until(() => ends.length === 1, 'the request end event');
    assert.deepEqual(
      hooks.map((h) => [h.namespace, h.module, h.hook, h.route, h.failed]),
      [
        ['default', 'mod', 'requestModifier', 'withmod', false],
        ['default', 'mod', 'responseModifier', 'withmod', false],
      ],
    );
    const total = hooks.reduce((s, h) => s + h.durationMs, 0);
    assert.ok(Math.abs(ends[0]!.moduleMs - total) < 1e-6, `moduleMs ${ends[0]!.moduleMs} = sum of hook durations ${total}`);
    assert.ok(ends[0]!.moduleMs > 0);
  });

  it('publishes a failing module function as failed', async () => {
    hooks.length = 0;
    ends.length = 0;
    const r = await gw.proxy('/fails');
    assert.equal(r.status, 500);
    await until(() => ends.length === 1, 'the request end event');
    assert.deepEqual(hooks.map((h) => [h.module, h.hook, h.failed]), [['boom', 'requestHandler', true]]);
    assert.equal(ends[0]!.status, 500);
  });

  it('publishes every upstream attempt: a refused connection, then the retry on the next URL', async () => {
    ups.length = 0;
    ends.length = 0;
    // the first request goes to urls[0] (refused), its retry to the next URL
    assert.equal((await gw.proxy('/retry')).status, 200);
    await until(() => ends.length === 1, 'the request end event');
    assert.deepEqual(
      ups.map((u) => [u.namespace, u.service, u.upstream, u.error, u.retry]),
      [
        ['default', 'flaky', deadOrigin, 'ECONNREFUSED', false],
        ['default', 'flaky', upstreamOrigin, null, true],
      ],
    );
    assert.ok(ups.every((u) => u.durationMs >= 0));
    assert.equal(ends[0]!.upstream, upstreamOrigin);
  });

  it('publishes connections opened and closed (Node; Bun.serve does not expose connections)', { skip: onBun ? 'Bun.serve has no connection events' : false }, async () => {
    await until(() => conns.filter((c) => c.delta === 1).length > 0, 'a connection opened');
    const { request, Agent } = await import('./support/http.js');
    const opened = conns.filter((c) => c.delta === 1).length;
    const res = await request(`${gw.proxyUrl}/pass/y`, { dispatcher: new Agent({ pipelining: 0 }), headers: { connection: 'close' } });
    await res.body.text();
    await until(() => conns.filter((c) => c.delta === 1).length > opened, 'the new connection');
    const open = () => conns.reduce((s, c) => s + c.delta, 0);
    await until(() => open() < conns.filter((c) => c.delta === 1).length, 'the closed connection');
  });
});

/**
 * A module route's answer when things happen out of order: ctx.upstream().readBody() called once
 * the upstream's body went to the client (or the exchange failed) rejects at once instead of
 * waiting forever; an upstream that fails while asynchronous responseModifiers still run gets
 * one answer (the errorHandler's), and the modifiers finishing later change nothing. The
 * gateway runs with `proxy.module_timeout: 3s`: past it a hanging read would end as a 504 or a
 * logged time-budget error, which the tests tell apart from the answers they expect.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { closeGateway, scope, type Scope } from './support/modules-harness.js';
import { onBun } from './support/runtime.js';
import { until } from './support/until.js';

let gw: TestGateway;
const servers: http.Server[] = [];

before(async () => {
  gw = await startTestGateway({ proxy: { module_timeout: '3s' } });
});
after(async () => {
  await closeGateway(gw);
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** An upstream: GET /ok answers 200 "fine"; any other path sends a head and 10 of 1000 body bytes, then closes the connection once `reset()` is called (at once when `resetAtOnce`). */
async function breakingUpstream(resetAtOnce: boolean): Promise<{ url: string; reset: () => void; heads: () => number }> {
  let pending: Array<() => void> = [];
  let heads = 0;
  const server = http.createServer((req, res) => {
    if (req.url!.startsWith('/ok')) {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' });
      res.end('fine');
      return;
    }
    heads++;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
    res.write('0123456789', () => {
      const kill = () => res.socket?.destroy();
      if (resetAtOnce) kill();
      else pending.push(kill);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reset: () => {
      for (const k of pending) k();
      pending = [];
    },
    heads: () => heads,
  };
}

/** An answer, or how the request failed (the connection closed before the answer was whole). */
async function outcome(s: Scope, path: string): Promise<{ status: number; text: string } | { closed: string }> {
  try {
    const r = await s.call(path, { timeoutMs: 8000 });
    return { status: r.status, text: r.text };
  } catch (err) {
    const msg = (err as Error).message;
    if (/no complete answer/.test(msg)) throw err;
    return { closed: msg };
  }
}

/** Lines the namespace logged at level error. */
async function errorLines(s: Scope): Promise<any[]> {
  const res = await gw.admin('GET', `/api/v1/logs?namespace=${s.ns}&level=error`);
  assert.equal(res.status, 200);
  return res.body.data;
}

/** Waits until everything the namespace logged so far is in the log buffer (a marker line logged after it is there). */
async function logSettled(s: Scope, marker: string): Promise<void> {
  assert.equal((await s.call(`/mark?m=${marker}`)).status, 204);
  await until(async () => {
    const res = await gw.admin('GET', `/api/v1/logs?namespace=${s.ns}`);
    return res.body.data.some((l: any) => l.message.includes(marker));
  }, `log line ${marker}`);
}

const MARKER = `export function requestHandler(ctx: any) { console.log('marker ' + ctx.query().get('m')); }\n`;

describe('readBody once the body went on', { timeout: 60_000 }, () => {
  it('a read of an answer already streamed to its client rejects (saying so) instead of waiting forever', async () => {
    const up = await breakingUpstream(true);
    const s = await scope(gw, 'late-read');
    await s.service('svc', [up.url]);
    // a request with ?stash=1 keeps its ctx.upstream(); the next one reads that answer's body
    await s.module(
      'm',
      `let stashed: any = null;
let last = 'none';
export async function responseModifier(ctx: any) {
  const up = ctx.upstream();
  if (ctx.query().get('stash') === '1') { stashed = up; return; }
  if (ctx.query().get('later') === '1') {
    // read outside the chain, after this answer went on
    last = 'pending';
    setTimeout(() => up.readText().then((t: string) => { last = 'read ' + t.length; }, (e: any) => { last = 'rejected: ' + e.message; }), 50);
    return;
  }
  up.headers.set('X-Stashed-Read', String((await stashed.readText()).length));
}
export function errorHandler(ctx: any, err: any) {
  ctx.response().status(530).json({ handled: true, message: err?.message ?? String(err) });
}
export function requestHandler(ctx: any) { ctx.response().json({ last }); }
`,
    );
    await s.module('mark', MARKER);
    await s.route({ name: 'r', paths: ['/ok'], service: 'svc', modules: ['m'] });
    await s.route({ name: 'last', paths: ['/last'], modules: ['m'] });
    await s.route({ name: 'mark', paths: ['/mark'], modules: ['mark'] });

    const first = await s.call('/ok?stash=1');
    assert.equal(first.status, 200);
    assert.equal(first.text, 'fine');
    const started = performance.now();
    const second = await s.call('/ok', { timeoutMs: 8000 });
    assert.equal(second.status, 530, `the errorHandler's answer, got ${second.status} ${second.text}`);
    assert.match(second.json().message, /already sent to the client/);
    assert.ok(performance.now() - started < 2500, 'rejected at once, not after the time budget');

    const third = await s.call('/ok?later=1');
    assert.equal(third.status, 200);
    assert.equal(third.text, 'fine', 'the answer itself is unchanged');
    let last = '';
    await until(async () => (last = (await s.call('/last')).json().last) !== 'pending', 'the late read to settle', 2500);
    assert.match(last, /^rejected: .*already sent to the client/);
  });

  it('a read by a modifier resumed after its time budget ran out rejects: the exchange failed', async () => {
    const up = await breakingUpstream(true);
    const s = await scope(gw, 'late-read-failed');
    await s.service('svc', [up.url]);
    await s.module(
      'm',
      `import { sleep } from 'dgate';
let last = 'none';
export async function responseModifier(ctx: any) {
  const up = ctx.upstream();
  last = 'pending';
  await sleep(4);
  try { last = 'read ' + (await up.readText()).length; } catch (e: any) { last = 'rejected: ' + e.message; }
}
export function requestHandler(ctx: any) { ctx.response().json({ last }); }
`,
    );
    await s.route({ name: 'r', paths: ['/ok'], service: 'svc', modules: ['m'] });
    await s.route({ name: 'last', paths: ['/last'], modules: ['m'] });
    const r = await s.call('/ok', { timeoutMs: 8000 });
    assert.equal(r.status, 504);
    let last = '';
    await until(async () => (last = (await s.call('/last')).json().last) !== 'pending', 'the resumed read to settle', 5000);
    assert.match(last, /^rejected: .*exchange failed/);
  });
});

describe('upstream failure while asynchronous responseModifiers run', { timeout: 60_000 }, () => {
  /**
   * A namespace whose routes /r (with an errorHandler counting its calls) and /bare (without
   * one) go to `upstream` through a modifier that waits `waitS` seconds (and reads the body
   * first with ?read=1).
   */
  async function setUp(ns: string, upstream: string, waitS: number): Promise<Scope> {
    const s = await scope(gw, ns);
    await s.service('svc', [upstream]);
    await s.module(
      'w',
      `import { sleep } from 'dgate';
export async function responseModifier(ctx: any) {
  const up = ctx.upstream();
  if (ctx.query().get('read') === '1') {
    try { await up.readText(); } catch (e: any) { console.log('read failed: ' + e.message); }
  }
  await sleep(${waitS});
  up.headers.set('X-Late', '1');
  console.log('modifier finished ' + ctx.query().get('n'));
}
`,
    );
    await s.module(
      'eh',
      `let handled = 0;
export function errorHandler(ctx: any, err: any) {
  handled++;
  ctx.response().status(599).json({ handled, message: err?.message ?? String(err) });
}
export function requestHandler(ctx: any) { ctx.response().json({ handled }); }
`,
    );
    await s.module('mark', MARKER);
    await s.route({ name: 'r', paths: ['/r', '/ok'], service: 'svc', modules: ['w', 'eh'] });
    await s.route({ name: 'bare', paths: ['/bare'], service: 'svc', modules: ['w'] });
    await s.route({ name: 'count', paths: ['/count'], modules: ['eh'] });
    await s.route({ name: 'mark', paths: ['/mark'], modules: ['mark'] });
    return s;
  }

  /** The modifier of request `n` finished, all logged so far is in the buffer, and nothing was logged as an error. */
  async function quietAfter(s: Scope, n: string): Promise<void> {
    await until(async () => {
      const res = await gw.admin('GET', `/api/v1/logs?namespace=${s.ns}`);
      return res.body.data.some((l: any) => l.message.includes(`modifier finished ${n}`));
    }, `the modifier of request ${n} to finish`);
    await logSettled(s, `after-${n}`);
    assert.deepEqual((await errorLines(s)).map((l) => l.message), []);
  }

  /** The gateway goes on serving the route. */
  async function stillServing(s: Scope): Promise<void> {
    const r = await s.call('/ok?n=ok');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'fine');
    assert.equal(r.headers['x-late'], '1');
  }

  it('the errorHandler (or a 502 without one) answers once; the modifier finishing later changes nothing', async () => {
    const up = await breakingUpstream(true);
    const s = await setUp('fail-during-modifier', up.url, 0.5);
    const a = await outcome(s, '/r?read=1&n=1');
    assert.ok('status' in a, `an answer, not a closed connection: ${JSON.stringify(a)}`);
    assert.equal(a.status, 599);
    assert.equal(JSON.parse(a.text).handled, 1);
    const b = await outcome(s, '/bare?read=1&n=2');
    assert.ok('status' in b, `an answer, not a closed connection: ${JSON.stringify(b)}`);
    assert.equal(b.status, 502);
    assert.equal(up.heads(), 2, 'no retry once the upstream answered (its head went to the modifiers)');
    await quietAfter(s, '1');
    await quietAfter(s, '2');
    assert.equal((await s.call('/count')).json().handled, 1, 'errorHandler ran once');
    const reads = (await gw.admin('GET', `/api/v1/logs?namespace=${s.ns}`)).body.data.filter((l: any) => l.message.startsWith('read failed'));
    assert.equal(reads.length, 2, JSON.stringify(reads));
    for (const r of reads) assert.match(r.message, /exchange failed/, 'the waiting read was rejected');
    await stillServing(s);
  });

  it('a modifier that leaves the body alone: one answer (the errorHandler or 502 on Node; on Bun, which reads the body after the modifiers, what the listener makes of a broken body)', async () => {
    const up = await breakingUpstream(true);
    const s = await setUp('fail-during-wait', up.url, 0.5);
    const a = await outcome(s, '/r?n=3');
    const b = await outcome(s, '/bare?n=4');
    if (onBun) {
      // the head goes to the listener with the body unread; the body then fails: Bun.serve's
      // error answer (500) when nothing was written yet, else the connection closes
      for (const o of [a, b]) assert.ok('closed' in o || (o.status === 500 && /Internal Server Error/.test(o.text)), JSON.stringify(o));
    } else {
      assert.ok('status' in a && 'status' in b, `answers, not closed connections: ${JSON.stringify([a, b])}`);
      assert.equal(a.status, 599, a.text);
      assert.equal(JSON.parse(a.text).handled, 1);
      assert.equal(b.status, 502, b.text);
    }
    await quietAfter(s, '3');
    await quietAfter(s, '4');
    assert.equal((await s.call('/count')).json().handled, onBun ? 0 : 1);
    await stillServing(s);
  });

  it('the reverse order: modifiers done, head sent, then the upstream fails: the connection closes', async () => {
    const up = await breakingUpstream(false);
    const s = await setUp('fail-after-modifier', up.url, 0);
    const seen = new Promise<{ status: number; error: Promise<string> }>((resolve, reject) => {
      const req = http.request(gw.proxyUrl + '/r?n=3', { headers: { host: s.host } }, (res) => {
        const error = new Promise<string>((done) => {
          res.on('error', (e) => done(e.message));
          res.on('aborted', () => done('aborted'));
          res.on('close', () => done(res.complete ? 'ended' : 'closed'));
          res.resume();
        });
        resolve({ status: res.statusCode!, error });
      });
      req.on('error', reject);
      req.end();
    });
    const { status, error } = await seen;
    assert.equal(status, 200);
    assert.equal(up.heads(), 1);
    up.reset();
    assert.notEqual(await error, 'ended', 'the body is cut short');
    await quietAfter(s, '3');
    assert.equal((await s.call('/count')).json().handled, 0);
    await stillServing(s);
  });
});

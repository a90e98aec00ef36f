/**
 * WebSocket upgrades through the real gateway, with real `ws` clients and upstream servers:
 * routing and upstream URL as for any request, messages both ways (text, binary, 1 MB),
 * ping/pong, subprotocols, close codes from either side, refusals and failures as HTTP answers,
 * requestModifier on the upgrade, the idle timeout and closing with 1001 on shutdown.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { channels, type UpstreamEvent } from '../src/observability/channels.js';
import { startEchoServer } from '../src/testserver/echo.js';
import { request } from './support/http.js';
import { onBun } from './support/runtime.js';
import { REFUSING_URL } from './support/refusing.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { b64 } from './support/modules-harness.js';
import { putJson, startServerProcess, stop, tempDir } from './support/server-process.js';
import { selfSignedCert } from './support/tls.js';

interface Upstream {
  url: string;
  /** upgrade requests the upstream accepted, in order */
  seen: Array<{ url: string; headers: IncomingMessage['headers'] }>;
  /** messages the upstream received */
  received: Array<{ data: Buffer; binary: boolean }>;
  /** close code and reason of each connection the upstream saw closed */
  closes: Array<{ code: number; reason: string }>;
  sockets: Set<WebSocket>;
  close(): Promise<void>;
}

/**
 * A `ws` server that echoes every message (same type), picks "chat.v2" when offered, accepts
 * permessage-deflate, refuses /deny with 401, closes with 4002 when it receives the text
 * "close-me" and drops the connection (no close frame) on "drop-me".
 */
async function startUpstream(tlsCert?: { cert: string; key: string }): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const received: Upstream['received'] = [];
  const closes: Upstream['closes'] = [];
  const sockets = new Set<WebSocket>();
  const https = tlsCert === undefined ? null : createHttpsServer(tlsCert);
  const options = {
    handleProtocols: (protocols: Set<string>) => (protocols.has('chat.v2') ? 'chat.v2' : false),
    verifyClient: (info: { req: IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void) => {
      if (info.req.url?.includes('/deny')) cb(false, 401, 'Unauthorized');
      else cb(true);
    },
    maxPayload: 64 * 1024 * 1024,
    perMessageDeflate: true,
  };
  const wss = https === null ? new WebSocketServer({ host: '127.0.0.1', port: 0, ...options }) : new WebSocketServer({ server: https, ...options });
  if (https !== null) await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  else await new Promise<void>((r) => wss.once('listening', r));
  wss.on('connection', (ws, req) => {
    sockets.add(ws);
    seen.push({ url: req.url!, headers: req.headers });
    ws.on('message', (data: Buffer, binary: boolean) => {
      received.push({ data, binary });
      if (!binary && data.toString() === 'close-me') ws.close(4002, 'server bye');
      else if (!binary && data.toString() === 'drop-me') ws.terminate();
      else ws.send(data, { binary });
    });
    ws.on('close', (code, reason) => {
      sockets.delete(ws);
      closes.push({ code, reason: reason.toString() });
    });
  });
  const port = ((https ?? wss).address() as AddressInfo).port;
  return {
    url: `${https === null ? 'http' : 'https'}://127.0.0.1:${port}`,
    seen,
    received,
    closes,
    sockets,
    close: async () => {
      for (const s of sockets) s.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      if (https !== null) await new Promise<void>((r) => https.close(() => r()));
    },
  };
}

/** Opens a client WebSocket; resolves once open, rejects with the HTTP status of a refusal. */
function connect(url: string, opts: { host?: string; protocols?: string[]; headers?: Record<string, string>; ca?: string } = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts.protocols ?? [], {
      headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
      maxPayload: 64 * 1024 * 1024,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
    });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve, reject) => {
    const onClose = (code: number) => reject(new Error(`closed (${code}) before a message`));
    ws.once('message', (data: Buffer, binary: boolean) => {
      ws.off('close', onClose);
      resolve({ data, binary });
    });
    ws.once('close', onClose);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) throw new Error('already closed');
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

async function refusal(p: Promise<WebSocket>): Promise<{ status: number; body: string }> {
  try {
    const ws = await p;
    ws.terminate();
  } catch (err) {
    const e = err as { status?: number; body?: string; message: string };
    if (e.status === undefined) throw err;
    return { status: e.status, body: e.body ?? '' };
  }
  throw new Error('the upgrade was accepted');
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let gw: TestGateway;
let up: Upstream;
let wsBase: string;
let n = 0;

/** A namespace (with its own Host) whose route /ws/* (stripped) goes to `url`. */
async function site(url: string, route: Record<string, unknown> = {}, service: Record<string, unknown> = {}, g: TestGateway = gw): Promise<string> {
  const ns = `ws${++n}`;
  const host = `${ns}.ws.test`;
  await g.put('namespace', { name: ns });
  await g.put('domain', { name: 'd', namespace: ns, patterns: [host] });
  await g.put('service', { name: 's', namespace: ns, urls: [url], ...service });
  await g.put('route', { name: 'r', namespace: ns, paths: ['/ws/*'], methods: ['GET'], service: 's', stripPath: true, ...route });
  return host;
}

before(async () => {
  up = await startUpstream();
  gw = await startTestGateway();
  wsBase = gw.proxyUrl.replace('http:', 'ws:');
});
after(async () => {
  await gw.close();
  await up.close();
});

describe('WebSocket tunnels', { timeout: 60_000 }, () => {
  it('relays text and binary messages both ways, to the upstream URL built as for HTTP (path, query, Host, X-Forwarded-For)', async () => {
    const host = await site(`${up.url}/base?k=1`);
    const before = up.seen.length;
    const ws = await connect(`${wsBase}/ws/room?x=2`, { host });
    const seen = up.seen[before];
    assert.equal(seen.url, '/base/room?k=1&x=2');
    assert.equal(seen.headers.host, new URL(up.url).host);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-host'], host);

    ws.send('hello');
    const text = await nextMessage(ws);
    assert.equal(text.binary, false);
    assert.equal(text.data.toString(), 'hello');
    ws.send(Buffer.from([0, 1, 2, 255]));
    const bin = await nextMessage(ws);
    assert.equal(bin.binary, true);
    assert.deepEqual([...bin.data], [0, 1, 2, 255]);
    assert.deepEqual(
      up.received.slice(-2).map((m) => m.binary),
      [false, true],
    );
    const c = closed(ws);
    ws.close(1000, 'done');
    assert.equal((await c).code, 1000);
  });

  it('relays 1 MB messages each way and answers pings', async () => {
    const host = await site(up.url);
    const ws = await connect(`${wsBase}/ws/big`, { host });
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    ws.send(big);
    const back = await nextMessage(ws);
    assert.equal(back.data.length, big.length);
    assert.ok(back.data.equals(big));
    assert.ok(up.received.some((m) => m.data.length === big.length));
    const bigText = 'x'.repeat(1024 * 1024);
    ws.send(bigText);
    assert.equal((await nextMessage(ws)).data.toString(), bigText);

    const pong = new Promise<Buffer>((r) => ws.once('pong', r));
    ws.ping(Buffer.from('are you there'));
    assert.equal((await pong).toString(), 'are you there');
    ws.close();
  });

  it('passes the subprotocol the upstream chose to the client, and none when it chose none', async () => {
    const host = await site(up.url);
    const ws = await connect(`${wsBase}/ws/p`, { host, protocols: ['chat.v1', 'chat.v2'] });
    assert.equal(ws.protocol, 'chat.v2');
    assert.match(up.seen.at(-1)!.headers['sec-websocket-protocol'] ?? '', /^chat\.v1,\s*chat\.v2$/);
    ws.close();
    const plain = await connect(`${wsBase}/ws/p`, { host });
    assert.equal(plain.protocol, '');
    plain.close();
    // offered but not chosen by the upstream: the gateway does not pick one either
    const unchosen = await connect(`${wsBase}/ws/p`, { host, protocols: ['chat.v1'] }).then(
      (ws) => {
        ws.close();
        return ws.protocol;
      },
      (err: Error) => err.message,
    );
    assert.ok(unchosen === '' || unchosen === 'Server sent no subprotocol', unchosen);
  });

  it('negotiates permessage-deflate end to end on Node; on Bun each hop relays uncompressed messages', async () => {
    const host = await site(up.url);
    const ws = await connect(`${wsBase}/ws/z`, { host });
    const offered = up.seen.at(-1)!.headers['sec-websocket-extensions'];
    if (onBun) {
      assert.equal(offered, undefined, 'no extension offered to the upstream');
      assert.equal(ws.extensions, '');
    } else {
      assert.match(offered ?? '', /permessage-deflate/);
      assert.match(ws.extensions, /permessage-deflate/);
    }
    const text = 'compress me '.repeat(1000);
    ws.send(text);
    assert.equal((await nextMessage(ws)).data.toString(), text);
    assert.equal(up.received.at(-1)!.data.toString(), text);
    ws.close();
  });

  it('tells the client 1011 when the upstream connection is lost without a close frame', async () => {
    const host = await site(up.url);
    const ws = await connect(`${wsBase}/ws/drop`, { host });
    const c = closed(ws);
    ws.send('drop-me');
    assert.deepEqual(await c, { code: 1011, reason: 'upstream connection lost' });
  });

  it('passes close code and reason from the client to the upstream and from the upstream to the client', async () => {
    const host = await site(up.url);
    const a = await connect(`${wsBase}/ws/c`, { host });
    const count = up.closes.length;
    a.close(4001, 'client bye');
    await until('the upstream to see the close', () => up.closes.length > count);
    assert.deepEqual(up.closes.at(-1), { code: 4001, reason: 'client bye' });

    const b = await connect(`${wsBase}/ws/c`, { host });
    const c = closed(b);
    b.send('close-me');
    assert.deepEqual(await c, { code: 4002, reason: 'server bye' });
  });

  it('gives the client the status of an upstream that refuses the upgrade, and 502 when the upstream is down', async () => {
    const host = await site(up.url);
    const denied = await refusal(connect(`${wsBase}/ws/deny`, { host }));
    assert.equal(denied.status, 401);

    const down = await site(REFUSING_URL);
    assert.equal((await refusal(connect(`${wsBase}/ws/x`, { host: down }))).status, 502);
  });

  it("tries the service's next URL when the connection cannot be made (retries)", async () => {
    const ns = `ws${++n}`;
    await gw.put('namespace', { name: ns });
    await gw.put('domain', { name: 'd', namespace: ns, patterns: [`${ns}.ws.test`] });
    await gw.put('service', { name: 's', namespace: ns, urls: [REFUSING_URL, up.url], retries: 1 });
    await gw.put('route', { name: 'r', namespace: ns, paths: ['/ws/*'], methods: ['GET'], service: 's', stripPath: true });
    for (let i = 0; i < 2; i++) {
      const ws = await connect(`${wsBase}/ws/retry`, { host: `${ns}.ws.test` });
      ws.send('second url');
      assert.equal((await nextMessage(ws)).data.toString(), 'second url');
      ws.close();
    }
  });

  it('routes upgrades like requests: unknown path 404, route methods without GET 405, a route without service 501', async () => {
    const host = await site(up.url);
    assert.equal((await refusal(connect(`${wsBase}/elsewhere`, { host }))).status, 404);
    const postOnly = await site(up.url, { methods: ['POST'] });
    assert.equal((await refusal(connect(`${wsBase}/ws/x`, { host: postOnly }))).status, 405);

    const ns = `ws${++n}`;
    await gw.put('namespace', { name: ns });
    await gw.put('domain', { name: 'd', namespace: ns, patterns: [`${ns}.ws.test`] });
    await gw.put('module', { name: 'h', namespace: ns, payload: b64('export function requestHandler(ctx: any) { ctx.response().send("plain"); }') });
    await gw.put('route', { name: 'r', namespace: ns, paths: ['/ws/*'], methods: ['GET'], modules: ['h'] });
    const r = await refusal(connect(`${wsBase}/ws/x`, { host: `${ns}.ws.test` }));
    assert.equal(r.status, 501);
    assert.match(r.body, /WebSocket upgrades need a route with a service/);
  });

  it("runs the route's requestModifier on the upgrade: it adds headers the upstream sees, or refuses the upgrade", async () => {
    const ns = `ws${++n}`;
    const host = `${ns}.ws.test`;
    await gw.put('namespace', { name: ns });
    await gw.put('domain', { name: 'd', namespace: ns, patterns: [host] });
    await gw.put('service', { name: 's', namespace: ns, urls: [up.url] });
    await gw.put('module', {
      name: 'm',
      namespace: ns,
      payload: b64(`export function requestModifier(ctx: any) {
  if (ctx.request().headers.get('x-token') !== 'good') { ctx.response().status(403).send('no token'); return; }
  ctx.request().headers.set('X-Checked', 'yes');
}`),
    });
    await gw.put('route', { name: 'r', namespace: ns, paths: ['/ws/*'], methods: ['GET'], service: 's', modules: ['m'], stripPath: true });

    const count = up.seen.length;
    const refused = await refusal(connect(`${wsBase}/ws/m`, { host }));
    assert.equal(refused.status, 403);
    assert.equal(refused.body, 'no token');
    assert.equal(up.seen.length, count, 'the upstream was not asked');

    const ws = await connect(`${wsBase}/ws/m`, { host, headers: { 'x-token': 'good' } });
    assert.equal(up.seen.at(-1)!.headers['x-checked'], 'yes');
    ws.send('through');
    assert.equal((await nextMessage(ws)).data.toString(), 'through');
    ws.close();
  });

  it('takes a ws:// URL from fetchUpstream, and reports each upstream attempt on the upstream channel', async () => {
    const ns = `ws${++n}`;
    const host = `${ns}.ws.test`;
    await gw.put('namespace', { name: ns });
    await gw.put('domain', { name: 'd', namespace: ns, patterns: [host] });
    await gw.put('service', { name: 's', namespace: ns, urls: [REFUSING_URL] });
    await gw.put('module', { name: 'm', namespace: ns, payload: b64(`export function fetchUpstream() { return ${JSON.stringify(up.url.replace('http:', 'ws:') + '/picked')}; }`) });
    await gw.put('route', { name: 'r', namespace: ns, paths: ['/ws/*'], methods: ['GET'], service: 's', modules: ['m'], stripPath: true });
    const events: UpstreamEvent[] = [];
    const listen = (e: UpstreamEvent) => events.push(e);
    channels.upstream.subscribe(listen);
    try {
      const ws = await connect(`${wsBase}/ws/x`, { host });
      assert.equal(up.seen.at(-1)!.url, '/picked/x');
      ws.send('picked');
      assert.equal((await nextMessage(ws)).data.toString(), 'picked');
      ws.close();
    } finally {
      channels.upstream.unsubscribe(listen);
    }
    const mine = events.filter((e) => e.namespace === ns);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.service, 's');
    assert.equal(mine[0]!.upstream, up.url);
    assert.equal(mine[0]!.error, null);
  });

  it('tunnels to an https upstream over wss (service URL https://)', async () => {
    const tlsUp = await startUpstream(selfSignedCert());
    try {
      const host = await site(tlsUp.url, {}, { tlsSkipVerify: true });
      const ws = await connect(`${wsBase}/ws/tls`, { host });
      ws.send('secure');
      assert.equal((await nextMessage(ws)).data.toString(), 'secure');
      assert.equal(tlsUp.received.at(-1)!.data.toString(), 'secure');
      ws.close();
    } finally {
      await tlsUp.close();
    }
  });
});

describe('wss:// clients', { timeout: 30_000 }, () => {
  it('tunnels upgrades on a TLS listener that also offers h2 (proxy.enable_http2: WebSocket clients negotiate http/1.1)', async () => {
    const cert = selfSignedCert();
    const dir = tempDir('dgate-wss-h2-');
    writeFileSync(join(dir, 'cert.pem'), cert.cert);
    writeFileSync(join(dir, 'key.pem'), cert.key);
    const g = await startTestGateway({ proxy: { enable_http2: true, tls: { port: 0, cert_file: join(dir, 'cert.pem'), key_file: join(dir, 'key.pem') } } });
    try {
      const host = await site(up.url, {}, {}, g);
      const ws = await connect(`wss://127.0.0.1:${g.gateway.proxyTlsPort}/ws/secure-h2`, { host, ca: cert.cert });
      assert.equal(up.seen.at(-1)!.url, '/secure-h2');
      assert.equal(up.seen.at(-1)!.headers['x-forwarded-proto'], 'https');
      ws.send('over tls, h2 offered');
      assert.equal((await nextMessage(ws)).data.toString(), 'over tls, h2 offered');
      const c = closed(ws);
      ws.close(4006, 'bye');
      assert.equal((await c).code, 4006);
    } finally {
      await g.close();
    }
  });

  it('tunnels upgrades arriving on the TLS listener (proxy.tls), with X-Forwarded-Proto https', async () => {
    const cert = selfSignedCert();
    const dir = tempDir('dgate-wss-');
    writeFileSync(join(dir, 'cert.pem'), cert.cert);
    writeFileSync(join(dir, 'key.pem'), cert.key);
    const g = await startTestGateway({ proxy: { tls: { port: 0, cert_file: join(dir, 'cert.pem'), key_file: join(dir, 'key.pem') } } });
    try {
      const host = await site(up.url, {}, {}, g);
      const tlsPort = g.gateway.proxyTlsPort;
      assert.ok(tlsPort !== null && tlsPort > 0);
      const ws = await connect(`wss://127.0.0.1:${tlsPort}/ws/secure`, { host, ca: cert.cert, protocols: ['chat.v2'] });
      assert.equal(ws.protocol, 'chat.v2');
      assert.equal(up.seen.at(-1)!.url, '/secure');
      assert.equal(up.seen.at(-1)!.headers['x-forwarded-proto'], 'https');
      ws.send('over tls');
      assert.equal((await nextMessage(ws)).data.toString(), 'over tls');
      const big = Buffer.alloc(1024 * 1024, 7);
      ws.send(big);
      assert.ok((await nextMessage(ws)).data.equals(big));
      const c = closed(ws);
      ws.close(4005, 'tls bye');
      assert.equal((await c).code, 4005);
      await until('the upstream to see the close', () => up.closes.at(-1)?.code === 4005);

      // a request asking for another protocol on the TLS listener is served as a plain one
      const echo = await startEchoServer();
      try {
        const plain = await site(echo.url, { methods: ['POST'] }, {}, g);
        const answer = await new Promise<string>((resolve, reject) => {
          let out = '';
          const s = tls.connect({ host: '127.0.0.1', port: tlsPort!, ca: cert.cert, servername: 'localhost' }, () =>
            s.write(`POST /ws/p HTTP/1.1\r\nHost: ${plain}\r\nConnection: Upgrade\r\nUpgrade: foo\r\nContent-Length: 5\r\n\r\nhello`),
          );
          s.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('"body"')) {
              s.destroy();
              resolve(out);
            }
          });
          s.on('error', reject);
          s.on('close', () => reject(new Error(`closed: ${out}`)));
        });
        assert.match(answer, /^HTTP\/1\.1 200 /);
        assert.match(answer, /"body":"hello"/);
      } finally {
        await echo.close();
      }
    } finally {
      await g.close();
    }
  });
});

describe('other upgrades', { timeout: 30_000 }, () => {
  it('serves a request asking to upgrade to another protocol (h2c) as a plain HTTP/1.1 request, body included', async () => {
    const echo = await startEchoServer();
    try {
      const host = await site(echo.url, { methods: ['POST'] });
      const res = await request(`${gw.proxyUrl}/ws/plain`, {
        method: 'POST',
        headers: { host, connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA', 'content-length': '10' },
        body: 'hello body',
      });
      assert.equal(res.statusCode, 200);
      const data = ((await res.body.json()) as { data: { method: string; body: string; req_headers: Record<string, string[]> } }).data;
      assert.equal(data.method, 'POST');
      assert.equal(data.body, 'hello body');
      assert.equal(data.req_headers['Upgrade'] ?? data.req_headers['upgrade'], undefined);
    } finally {
      await echo.close();
    }
  });
});

describe('WebSocket idle timeout and shutdown', { timeout: 60_000 }, () => {
  it('closes a tunnel idle for proxy.websocket.idle_timeout with 1001 both ways; traffic keeps it open', async () => {
    const g = await startTestGateway({ proxy: { websocket: { idle_timeout: '1s' } } });
    try {
      const host = await site(up.url, {}, {}, g);
      const ws = await connect(`${g.proxyUrl.replace('http:', 'ws:')}/ws/idle`, { host });
      const c = closed(ws);
      const count = up.closes.length;
      // messages every 100 ms for 1.5 s: longer than the idle timeout, never idle that long
      const started = Date.now();
      while (Date.now() - started < 1500) {
        ws.send('tick');
        await nextMessage(ws);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(ws.readyState, WebSocket.OPEN);
      const { code, reason } = await c;
      assert.equal(code, 1001);
      assert.equal(reason, 'idle timeout');
      await until('the upstream to see the close', () => up.closes.length > count);
      assert.equal(up.closes.at(-1)!.code, 1001);
    } finally {
      await g.close();
    }
  });

  it('closes open tunnels with 1001 (going away) when the proxy stops', async () => {
    const g = await startTestGateway();
    const host = await site(up.url, {}, {}, g);
    const ws = await connect(`${g.proxyUrl.replace('http:', 'ws:')}/ws/drain`, { host });
    ws.send('before');
    await nextMessage(ws);
    const c = closed(ws);
    const count = up.closes.length;
    await g.close();
    assert.deepEqual(await c, { code: 1001, reason: 'server shutting down' });
    await until('the upstream to see the close', () => up.closes.length > count);
    assert.equal(up.closes.at(-1)!.code, 1001);
  });
});

describe('WebSocket tunnels on a replaced worker', { timeout: 60_000 }, () => {
  it('closes the tunnels of a worker being replaced with 1001; the client reconnects to its replacement', async () => {
    // revisions: 1 the default namespace, 2 the service, 3 the route; the worker cannot apply 4
    const server = await startServerProcess({
      env: { DGATE_TEST_FAIL_APPLY_AT_REV: '4' },
      yaml: (p) => `
log_level: warn
storage: { type: memory }
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 1 }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
    });
    try {
      assert.equal(await putJson(server.adminUrl, 'service', { name: 's', urls: [up.url] }), 201);
      assert.equal(await putJson(server.adminUrl, 'route', { name: 'r', paths: ['/ws/*'], methods: ['GET'], service: 's', stripPath: true }), 201);
      const url = `${server.proxyUrl.replace('http:', 'ws:')}/ws/worker`;
      const ws = await connect(url);
      ws.send('on the old worker');
      await nextMessage(ws);
      const c = closed(ws);
      const count = up.closes.length;
      assert.equal(await putJson(server.adminUrl, 'route', { name: 'r2', paths: ['/other'], methods: ['GET'], service: 's' }), 201);
      assert.deepEqual(await c, { code: 1001, reason: 'server shutting down' });
      await until('the upstream to see the close', () => up.closes.length > count);
      assert.equal(up.closes.at(-1)!.code, 1001);
      const again = await connect(url);
      again.send('on the new worker');
      assert.equal((await nextMessage(again)).data.toString(), 'on the new worker');
      again.close();
    } finally {
      await stop(server);
    }
  });
});

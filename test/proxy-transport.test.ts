/**
 * What the proxy sends and returns: headers both ways, load balancing, retries, timeouts,
 * https upstreams and streamed bodies.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from './support/http.js';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { selfSignedCert } from './support/tls.js';

let echo: EchoServer;
let gw: TestGateway;
before(async () => {
  echo = await startEchoServer();
  gw = await startTestGateway({ proxy: { global_headers: { 'X-Global': 'yes' } } });
  await gw.put('service', { name: 'echo', urls: [echo.url] });
  await gw.put('route', { name: 'echo', paths: ['/echo/*'], methods: ['*'], service: 'echo' });
});
after(async () => {
  await gw.close();
  await echo.close();
});

async function listen(server: http.Server | https.Server | net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

describe('headers', () => {
  it('sends X-Forwarded-For/-Host/-Proto, X-Real-IP and X-DGate-* upstream', async () => {
    const res = await gw.proxy('/echo/h', { host: 'client.example:99', headers: { 'X-Forwarded-For': '203.0.113.9' } });
    const h = res.json().data.req_headers;
    assert.deepEqual(h['X-Forwarded-For'], ['203.0.113.9, 127.0.0.1']);
    assert.deepEqual(h['X-Forwarded-Host'], ['client.example:99']);
    assert.deepEqual(h['X-Forwarded-Proto'], ['http']);
    assert.deepEqual(h['X-Real-Ip'] ?? h['X-Real-IP'], ['127.0.0.1']);
    assert.deepEqual(h['X-Dgate-Route'] ?? h['X-DGate-Route'], ['echo']);
    assert.deepEqual(h['X-Dgate-Service'] ?? h['X-DGate-Service'], ['echo']);
    assert.deepEqual(h['X-Dgate-Namespace'] ?? h['X-DGate-Namespace'], ['default']);
  });

  it('hideDGateHeaders leaves out the X-DGate-* headers', async () => {
    await gw.put('service', { name: 'hidden', urls: [echo.url], hideDGateHeaders: true });
    await gw.put('route', { name: 'hidden', paths: ['/hidden'], methods: ['GET'], service: 'hidden' });
    const h = (await gw.proxy('/hidden')).json().data.req_headers;
    assert.equal(Object.keys(h).filter((k) => k.toLowerCase().startsWith('x-dgate')).length, 0, JSON.stringify(h));
  });

  it('removes hop-by-hop request headers, including those named in Connection', async () => {
    // node:http sends these headers as given (undici's client refuses to send Keep-Alive itself).
    const body = await new Promise<string>((resolve, reject) => {
      const headers = { Connection: 'keep-alive, X-Private', 'X-Private': 'secret', 'Keep-Alive': 'timeout=5', 'Proxy-Authorization': 'Basic eDp5', 'X-Kept': '1' };
      http.get(`${gw.proxyUrl}/echo/hop`, { headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => resolve(text));
      }).on('error', reject);
    });
    const names = Object.keys(JSON.parse(body).data.req_headers).map((k) => k.toLowerCase());
    for (const hop of ['x-private', 'keep-alive', 'proxy-authorization']) assert.ok(!names.includes(hop), `${hop} was forwarded`);
    assert.ok(names.includes('x-kept'));
  });

  it('removes hop-by-hop response headers and adds global_headers', async () => {
    const up = http.createServer((req, res) => {
      res.writeHead(200, { Connection: 'X-Up-Private', 'X-Up-Private': '1', 'Keep-Alive': 'timeout=1', 'X-Up-Kept': '1', 'Content-Length': '2' });
      res.end('ok');
    });
    const port = await listen(up);
    try {
      await gw.put('service', { name: 'hop', urls: [`http://127.0.0.1:${port}`] });
      await gw.put('route', { name: 'hop', paths: ['/hop'], methods: ['GET'], service: 'hop' });
      const res = await gw.proxy('/hop');
      assert.equal(res.text, 'ok');
      assert.equal(res.headers['x-up-private'], undefined);
      assert.notEqual(res.headers['keep-alive'], 'timeout=1');
      assert.equal(res.headers['x-up-kept'], '1');
      assert.equal(res.headers['x-global'], 'yes');
    } finally {
      up.close();
    }
  });
  it('a module route answers with the same headers whether its responseModifiers are synchronous or not', async () => {
    // the upstream repeats names the gateway and the module set too
    const up = http.createServer((req, res) => {
      res.writeHead(200, [
        ['Connection', 'X-Up-Private'], ['X-Up-Private', '1'], ['X-Up-Kept', '1'], ['X-Up-Dropped', '1'], ['X-Dup', 'up'],
        ['X-Global', 'up'], ['Set-Cookie', 'u=1'], ['Content-Length', '2'],
      ].flat());
      res.end('ok');
    });
    const port = await listen(up);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const body = `(ctx: any) {
  ctx.response().headers.set('X-Dup', 'own');
  ctx.response().cookie('m', '2');
  ctx.upstream().headers.set('X-Edited', '1');
  ctx.upstream().headers.del('X-Up-Dropped');
}`;
    try {
      await gw.put('service', { name: 'hdrs', urls: [`http://127.0.0.1:${port}`] });
      await gw.put('module', { name: 'hdrs-sync', payload: b64(`export function responseModifier${body}\n`), moduleType: 'typescript' });
      await gw.put('module', { name: 'hdrs-async', payload: b64(`export async function responseModifier${body}\n`), moduleType: 'typescript' });
      await gw.put('route', { name: 'hdrs-sync', paths: ['/hdrs-sync'], methods: ['GET'], service: 'hdrs', modules: ['hdrs-sync'] });
      await gw.put('route', { name: 'hdrs-async', paths: ['/hdrs-async'], methods: ['GET'], service: 'hdrs', modules: ['hdrs-async'] });
      for (const path of ['/hdrs-sync', '/hdrs-async']) {
        const res = await gw.proxy(path);
        assert.equal(res.status, 200, path);
        assert.equal(res.text, 'ok', path);
        const h = res.headers;
        assert.equal(h['x-up-private'], undefined, path);
        assert.equal(h['x-up-dropped'], undefined, path);
        assert.equal(h['x-up-kept'], '1', path);
        assert.equal(h['x-edited'], '1', path);
        // global headers first, then the module's own, then the upstream's
        assert.equal(h['x-global'], 'yes, up', path);
        assert.equal(h['x-dup'], 'own, up', path);
        assert.deepEqual(h['set-cookie'], ['m=2; Path=/', 'u=1'], path);
      }
    } finally {
      up.close();
    }
  });
});

describe('load balancing and retries', () => {
  it('balances several service URLs round-robin', async () => {
    await gw.put('service', { name: 'rr', urls: [`${echo.url}/a`, `${echo.url}/b`, `${echo.url}/c`] });
    await gw.put('route', { name: 'rr', paths: ['/rr'], methods: ['GET'], service: 'rr', stripPath: true });
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push((await gw.proxy('/rr')).json().data.path);
    assert.deepEqual(seen, ['/a', '/b', '/c', '/a', '/b', '/c']);
  });

  it('retries a GET on the next URL after a refused connection', async () => {
    const dead = await deadPort();
    await gw.put('service', { name: 'retry', urls: [`http://127.0.0.1:${dead}`, echo.url], retries: 1 });
    await gw.put('route', { name: 'retry', paths: ['/retry'], methods: ['*'], service: 'retry' });
    for (let i = 0; i < 4; i++) assert.equal((await gw.proxy('/retry')).status, 200, `attempt ${i}`);
  });

  it('never retries a POST: a refused connection is a 502', async () => {
    let got502 = 0;
    for (let i = 0; i < 4; i++) {
      const res = await gw.proxy('/retry', { method: 'POST', body: 'x' });
      if (res.status === 502) got502++;
      else assert.equal(res.status, 200);
    }
    assert.equal(got502, 2, 'every POST sent to the dead URL fails');
  });

  it('answers 502 Bad Gateway without internal details when the upstream is down', async () => {
    const dead = await deadPort();
    await gw.put('service', { name: 'down', urls: [`http://127.0.0.1:${dead}`], retries: 2, retryTimeout: '10ms' });
    await gw.put('route', { name: 'down', paths: ['/down'], methods: ['GET'], service: 'down' });
    const res = await gw.proxy('/down');
    assert.equal(res.status, 502);
    assert.equal(res.text, 'Bad Gateway\n');
  });
});

describe('timeouts', () => {
  it('answers 504 when the upstream exceeds requestTimeout', async () => {
    await gw.put('service', { name: 'slow', urls: [echo.url], requestTimeout: '100ms', retries: 0 });
    await gw.put('route', { name: 'slow', paths: ['/slow'], methods: ['GET'], service: 'slow' });
    const started = Date.now();
    const res = await gw.proxy('/slow?wait=3s');
    assert.equal(res.status, 504);
    assert.equal(res.text, 'Gateway Timeout\n');
    assert.ok(Date.now() - started < 2500, 'did not wait for the upstream');
    assert.equal((await gw.proxy('/slow?wait=10ms')).status, 200, 'a fast answer within the timeout passes');
  });

  it('answers 504 when the upstream sends no head within proxy.client_transport.response_header_timeout', async () => {
    const own = await startTestGateway({ proxy: { client_transport: { response_header_timeout: '150ms' } } });
    try {
      await own.put('service', { name: 'slow', urls: [echo.url], retries: 0 });
      await own.put('route', { name: 'slow', paths: ['/slow'], methods: ['GET'], service: 'slow' });
      const started = Date.now();
      const res = await own.proxy('/slow?wait=3s');
      assert.equal(res.status, 504);
      assert.equal(res.text, 'Gateway Timeout\n');
      assert.ok(Date.now() - started < 2500, 'did not wait for the upstream');
      const fast = await own.proxy('/slow?wait=10ms');
      assert.equal(fast.status, 200, 'a head within the timeout passes');
      assert.equal(fast.json().data.req_headers['X-Dgate-Route']?.[0] ?? fast.json().data.req_headers['X-DGate-Route']?.[0], 'slow');
    } finally {
      await own.close();
    }
  });
});

describe('a client that goes away', () => {
  it('stops the upstream request it was waiting on', async () => {
    let seen!: () => void;
    const arrived = new Promise<void>((r) => (seen = r));
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((r) => (closed = r));
    // answers nothing: the only way the exchange ends is the gateway dropping it
    const server = http.createServer((req) => {
      req.socket.once('close', closed);
      seen();
    });
    const port = await listen(server);
    try {
      await gw.put('service', { name: 'silent', urls: [`http://127.0.0.1:${port}`], retries: 0 });
      await gw.put('route', { name: 'silent', paths: ['/silent'], methods: ['GET'], service: 'silent' });
      const client = net.connect((new URL(gw.proxyUrl).port as unknown as number) * 1, '127.0.0.1');
      await once(client, 'connect');
      client.write('GET /silent HTTP/1.1\r\nHost: x\r\n\r\n');
      await arrived;
      client.destroy();
      await upstreamClosed; // the test times out if the upstream request is left open
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('https upstreams', () => {
  let port: number;
  let server: https.Server;
  before(async () => {
    const { cert, key } = selfSignedCert();
    server = https.createServer({ cert, key }, (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`tls ${req.url}`);
    });
    port = await listen(server);
  });
  after(() => server.close());

  it('proxies to an https upstream with a self-signed certificate when tlsSkipVerify is set', async () => {
    await gw.put('service', { name: 'tls', urls: [`https://127.0.0.1:${port}/base`], tlsSkipVerify: true });
    await gw.put('route', { name: 'tls', paths: ['/tls/*'], methods: ['GET'], service: 'tls', stripPath: true });
    const res = await gw.proxy('/tls/x');
    assert.equal(res.status, 200);
    assert.equal(res.text, 'tls /base/x');
  });

  it('refuses an untrusted certificate without tlsSkipVerify (502)', async () => {
    await gw.put('service', { name: 'tlsv', urls: [`https://127.0.0.1:${port}`], retries: 0 });
    await gw.put('route', { name: 'tlsv', paths: ['/tlsv'], methods: ['GET'], service: 'tlsv' });
    assert.equal((await gw.proxy('/tlsv')).status, 502);
  });
});

describe('bodies', () => {
  it('streams a large response body', async () => {
    const res = await request(`${gw.proxyUrl}/echo/big?size=${8 * 1024 * 1024}`);
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    assert.equal(res.statusCode, 200);
    assert.equal(bytes, 8 * 1024 * 1024);
  });

  it('streams a request body to the upstream, chunked or with a length', async () => {
    const body = 'x'.repeat(1024 * 1024);
    const withLength = await gw.proxy('/echo/up', { method: 'POST', body });
    assert.equal(withLength.json().data.body.length, body.length);
    async function* chunks() {
      for (let i = 0; i < 16; i++) yield Buffer.alloc(4096, 'y');
    }
    const res = await request(`${gw.proxyUrl}/echo/chunked`, { method: 'PUT', body: chunks() as any });
    const data = (await res.body.json()) as any;
    assert.equal(data.data.body.length, 16 * 4096);
  });

  it('passes HEAD and empty bodies through', async () => {
    const res = await request(`${gw.proxyUrl}/echo/head`, { method: 'HEAD' });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), '');
  });
});

describe('client_transport.disable_private_ips', () => {
  it('refuses upstreams on loopback addresses, by IP or by name (502)', async () => {
    const guarded = await startTestGateway({ proxy: { client_transport: { disable_private_ips: true } } });
    try {
      const port = new URL(echo.url).port;
      await guarded.put('service', { name: 'byip', urls: [echo.url], retries: 0 });
      await guarded.put('service', { name: 'byname', urls: [`http://localhost:${port}`], retries: 0 });
      await guarded.put('route', { name: 'byip', paths: ['/ip'], methods: ['GET'], service: 'byip' });
      await guarded.put('route', { name: 'byname', paths: ['/name'], methods: ['GET'], service: 'byname' });
      assert.equal((await guarded.proxy('/ip')).status, 502);
      assert.equal((await guarded.proxy('/name')).status, 502);
      assert.equal((await gw.proxy('/echo/x')).status, 200, 'the same upstream is reachable without the setting');
    } finally {
      await guarded.close();
    }
  });
});

/**
 * HTTP/2 at the edge, with real sockets on the runtime the tests run on: h2c (prior knowledge)
 * beside HTTP/1.1 on the proxy port, h2 over TLS by ALPN, HTTP/2 to http2Only upstreams (h2c
 * and h2), gRPC calls of every shape with their trailers, connection-specific headers, and the
 * limits of proxy.http2 (concurrent streams, rapid reset, header lists, CONTINUATION floods).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http2, { type IncomingHttpHeaders } from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { channels, type RequestEndEvent } from '../src/observability/channels.js';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { request } from './support/http.js';
import { grpc, grpcClient, serverStream, startGrpcEchoServer, unary, type GrpcEchoServer, type Msg } from './support/grpc.js';
import { errorCode, FLAG, FRAME, frame, headerBlock, rawH2 } from './support/h2-frames.js';
import { REFUSING_URL } from './support/refusing.js';
import { freePort, putJson, startServerProcess, stop } from './support/server-process.js';
import { selfSignedCert } from './support/tls.js';
import { until } from './support/until.js';

const run = promisify(execFile);
const { NGHTTP2_PROTOCOL_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_CANCEL } = http2.constants;

interface H2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  trailers: IncomingHttpHeaders | null;
}

/** One HTTP/2 request with node:http2 (h2c or h2); `body` as an iterable is streamed without a length. */
async function h2request(origin: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | string[]; ca?: string } = {}): Promise<H2Answer> {
  const session = http2.connect(origin, opts.ca === undefined ? {} : { ca: opts.ca });
  try {
    return await new Promise<H2Answer>((resolve, reject) => {
      session.on('error', reject);
      const s = session.request({ ':method': opts.method ?? 'GET', ':path': path, ...opts.headers }, { endStream: opts.body === undefined });
      let headers: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders | null = null;
      let body = '';
      s.setEncoding('utf8');
      s.on('response', (h) => (headers = h));
      s.on('trailers', (t) => (trailers = t));
      s.on('data', (d: string) => (body += d));
      s.on('end', () => resolve({ status: Number(headers[':status']), headers, body, trailers }));
      s.on('error', reject);
      if (typeof opts.body === 'string') s.end(opts.body);
      else if (Array.isArray(opts.body)) {
        for (const part of opts.body) s.write(part);
        s.end();
      }
    });
  } finally {
    session.close();
  }
}

/** An h2c upstream (node:http2) that answers with what it received, and trailers. */
async function startH2Upstream(tls: { cert: string; key: string } | null = null): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = tls === null ? http2.createServer() : http2.createSecureServer({ cert: tls.cert, key: tls.key });
  server.on('stream', (stream, headers) => {
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (body += d));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/json' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-upstream-trailer': 'done' }));
      const plain: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(headers)) plain[k] = v;
      stream.end(JSON.stringify({ headers: plain, body, version: stream.session?.alpnProtocol ?? 'h2c' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    origin: `${tls === null ? 'http' : 'https'}://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // sessions still open (the proxy's pooled one) end with the server
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

const CONNECTION_SPECIFIC = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];

let echo: EchoServer;
let echoHits = 0;
let gw: TestGateway;
let h2Up: Awaited<ReturnType<typeof startH2Upstream>>;
let grpcUp: GrpcEchoServer;
let proxyAddress: string;

before(async () => {
  echo = await startEchoServer({ onSleep: () => echoHits++ });
  h2Up = await startH2Upstream();
  grpcUp = await startGrpcEchoServer();
  gw = await startTestGateway({ proxy: { enable_http2: true, enable_h2c: true } });
  proxyAddress = gw.proxyUrl.replace('http://', '');
  await gw.put('service', { name: 'echo', urls: [echo.url] });
  await gw.put('route', { name: 'echo', paths: ['/echo/*'], methods: ['*'], service: 'echo' });
  await gw.put('namespace', { name: 'other' });
  await gw.put('domain', { name: 'other', namespace: 'other', patterns: ['h2.example'] });
  await gw.put('service', { name: 'echo', namespace: 'other', urls: [echo.url] });
  await gw.put('route', { name: 'other', namespace: 'other', paths: ['/other/*'], methods: ['*'], service: 'echo' });
  await gw.put('service', { name: 'h2up', urls: [h2Up.origin], http2Only: true });
  await gw.put('route', { name: 'h2up', paths: ['/h2up/*'], methods: ['*'], service: 'h2up' });
  await gw.put('service', { name: 'grpc', urls: [`http://127.0.0.1:${grpcUp.port}`], http2Only: true, retries: 0 });
  await gw.put('route', { name: 'grpc', paths: ['/dgate.test.Echo/*'], methods: ['POST'], service: 'grpc' });
});

after(async () => {
  await gw.close();
  await echo.close();
  await h2Up.close();
  await grpcUp.close();
});

describe('h2c on the proxy port', () => {
  it('curl --http2-prior-knowledge is answered over HTTP/2; :authority picks the namespace and becomes X-Forwarded-Host', async () => {
    const { stdout } = await run('curl', ['-sS', '-i', '--http2-prior-knowledge', '-H', 'Host: h2.example', `${gw.proxyUrl}/other/a?x=1`]);
    assert.match(stdout, /^HTTP\/2 200/);
    const data = JSON.parse(stdout.slice(stdout.indexOf('{'))).data;
    assert.equal(data.path, '/other/a?x=1');
    assert.equal(data.host, new URL(echo.url).host);
    assert.deepEqual(data.req_headers['X-Forwarded-Host'], ['h2.example']);
    // the default namespace has no /other route: the domain chose the namespace
    const { stdout: dflt } = await run('curl', ['-sS', '-i', '--http2-prior-knowledge', `${gw.proxyUrl}/other/a`]);
    assert.match(dflt, /^HTTP\/2 404/);
  });

  it("the request-end event (access log, metrics) carries an HTTP/2 answer's status", async () => {
    const seen: RequestEndEvent[] = [];
    const onEnd = (e: unknown) => {
      const event = e as RequestEndEvent;
      if (event.requestId === 'h2-status-ok' || event.requestId === 'h2-status-missing') seen.push(event);
    };
    channels.requestEnd.subscribe(onEnd);
    try {
      const ok = await h2request(gw.proxyUrl, '/echo/status', { headers: { 'x-request-id': 'h2-status-ok' } });
      const missing = await h2request(gw.proxyUrl, '/nowhere', { headers: { 'x-request-id': 'h2-status-missing' } });
      assert.deepEqual([ok.status, missing.status], [200, 404]);
      await until(() => seen.length === 2, 'two request-end events');
    } finally {
      channels.requestEnd.unsubscribe(onEnd);
    }
    const byId = Object.fromEntries(seen.map((e) => [e.requestId, [e.status, e.route]]));
    assert.deepEqual(byId, { 'h2-status-ok': [200, 'echo'], 'h2-status-missing': [404, null] });
  });

  it('HTTP/1.1 clients keep being served on the same port', async () => {
    const { stdout } = await run('curl', ['-sS', '-i', '--http1.1', `${gw.proxyUrl}/echo/one`]);
    assert.match(stdout, /^HTTP\/1\.1 200/);
    const res = await gw.proxy('/echo/two');
    assert.equal(res.status, 200);
  });

  it('h2load: 300 requests over h2c on 3 connections, 10 streams each, all succeed', async () => {
    const { stdout } = await run('h2load', ['-n', '300', '-c', '3', '-m', '10', `${gw.proxyUrl}/echo/load`]);
    assert.match(stdout, /requests: 300 total, 300 started, 300 done, 300 succeeded, 0 failed, 0 errored/);
    assert.match(stdout, /status codes: 300 2xx/);
  });

  it('a request body without a length (streamed DATA frames) reaches the upstream whole', async () => {
    const res = await h2request(gw.proxyUrl, '/echo/body', { method: 'POST', body: ['part one, ', 'part two'] });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).data.body, 'part one, part two');
  });

  it("a streamed body past the route's maxBodyBytes is answered 413 (counted as DATA frames arrive)", async () => {
    await gw.put('route', { name: 'small', paths: ['/small/*'], methods: ['*'], service: 'echo', maxBodyBytes: 100 });
    const small = await h2request(gw.proxyUrl, '/small/ok', { method: 'POST', body: ['x'.repeat(50), 'y'.repeat(40)] });
    assert.equal(small.status, 200, small.body);
    const big = await h2request(gw.proxyUrl, '/small/big', { method: 'POST', body: ['x'.repeat(60), 'y'.repeat(60)] });
    assert.equal(big.status, 413, big.body);
  });

  it('a GET whose stream ends with an empty DATA frame is a GET without a body upstream', async () => {
    const session = http2.connect(gw.proxyUrl);
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const s = session.request({ ':path': '/echo/get' }, { endStream: false });
        let body = '';
        let status = 0;
        s.setEncoding('utf8');
        s.on('response', (h) => (status = Number(h[':status'])));
        s.on('data', (d: string) => (body += d));
        s.on('end', () => resolve({ status, body }));
        s.on('error', reject);
        s.end();
      });
      assert.equal(answer.status, 200);
      const data = JSON.parse(answer.body).data;
      assert.equal(data.method, 'GET');
      assert.equal(data.body, '');
      assert.equal(data.req_headers['Transfer-Encoding'] ?? data.req_headers['transfer-encoding'], undefined);
    } finally {
      session.close();
    }
  });

  it('an HTTP/2 client gets no connection-specific headers from an HTTP/1.1 upstream answering in chunks', async () => {
    const res = await h2request(gw.proxyUrl, '/echo/big?size=100000');
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 100_000);
    for (const name of CONNECTION_SPECIFIC) assert.equal(res.headers[name], undefined, name);
  });

  it('an HTTP/2 request with a connection-specific header is malformed: RST_STREAM PROTOCOL_ERROR, never sent upstream', async () => {
    const port = Number(new URL(gw.proxyUrl).port);
    const before = echoHits;
    for (const field of [['connection', 'keep-alive'], ['keep-alive', '5'], ['proxy-connection', 'keep-alive'], ['transfer-encoding', 'chunked'], ['upgrade', 'websocket'], ['te', 'gzip']] as const) {
      const c = await rawH2(port);
      try {
        const fields = [[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/echo/m?wait=1ms'], field] as const;
        c.send(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, headerBlock(fields)));
        const f = await c.waitFor((f) => (f.type === FRAME.RST_STREAM || f.type === FRAME.HEADERS) && f.stream === 1);
        assert.ok(f !== null && f.type === FRAME.RST_STREAM, `${field[0]}: expected RST_STREAM, got ${f === null ? 'a closed connection' : `frame type ${f.type}`}`);
        assert.equal(errorCode(f), NGHTTP2_PROTOCOL_ERROR, field[0]);
      } finally {
        c.close();
      }
    }
    // te: trailers is allowed
    const ok = await h2request(gw.proxyUrl, '/echo/m?wait=1ms', { headers: { te: 'trailers' } });
    assert.equal(ok.status, 200);
    assert.equal(echoHits, before + 1);
  });
});

describe('HTTP/1.1 beside h2c', () => {
  /** raw bytes on a new connection; the status of the first answer, 0 if none came */
  const probe = (raw: string) =>
    new Promise<number>((resolve) => {
      const socket = net.connect(Number(new URL(gw.proxyUrl).port), '127.0.0.1', () => socket.write(raw, 'latin1'));
      let data = '';
      const done = () => {
        socket.destroy();
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
        resolve(m === null ? 0 : Number(m[1]));
      };
      socket.on('data', (d) => {
        data += d.toString('latin1');
        if (data.includes('\r\n\r\n')) done();
      });
      socket.on('error', done);
      socket.on('close', done);
    });

  it('still refuses request smuggling attempts and oversized heads, before the upstream', async () => {
    const before = echoHits;
    const head = 'Host: x\r\n';
    assert.equal(await probe(`POST /echo/p?wait=1ms HTTP/1.1\r\n${head}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /echo/s?wait=1ms HTTP/1.1\r\n${head}\r\n`), 400);
    assert.equal(await probe(`POST /echo/p?wait=1ms HTTP/1.1\r\n${head}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`), 400);
    assert.ok([400, 431].includes(await probe(`GET /echo/p?wait=1ms HTTP/1.1\r\n${head}X-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`)));
    // a request line that starts like the HTTP/2 preface but is not it is HTTP/1.1 (and malformed)
    assert.equal(await probe(`PRI /echo/p HTTP/1.1\r\n${head}\r\n`) === 200, false);
    assert.equal(echoHits, before);
  });
});

describe('HTTP/2 to http2Only upstreams', () => {
  it('an HTTP/1.1 request goes upstream over h2c without connection-specific headers; Host becomes :authority', async () => {
    const res = await request(`${gw.proxyUrl}/h2up/x?y=1`, {
      method: 'POST',
      headers: { host: 'client.example', connection: 'keep-alive, x-hop', 'x-hop': '1', 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', te: 'trailers', 'x-kept': 'yes' },
      body: 'hello',
    });
    assert.equal(res.statusCode, 200);
    const got = (await res.body.json()) as { headers: Record<string, string>; body: string; version: string };
    assert.equal(got.version, 'h2c');
    assert.equal(got.body, 'hello');
    assert.equal(got.headers[':path'], '/h2up/x?y=1');
    assert.equal(got.headers[':method'], 'POST');
    assert.equal(got.headers[':authority'], new URL(h2Up.origin).host);
    assert.equal(got.headers['x-forwarded-host'], 'client.example');
    assert.equal(got.headers['x-kept'], 'yes');
    for (const name of [...CONNECTION_SPECIFIC, 'x-hop', 'host']) assert.equal(got.headers[name], undefined, name);
    assert.equal(got.headers['te'], 'trailers');
  });

  it("an HTTP/2 client gets the upstream's trailers after the body", async () => {
    const res = await h2request(gw.proxyUrl, '/h2up/t');
    assert.equal(res.status, 200);
    assert.equal(res.trailers?.['x-upstream-trailer'], 'done');
  });

  it('an http2Only upstream that is down: 502', async () => {
    await gw.put('service', { name: 'down', urls: [REFUSING_URL], http2Only: true, retries: 0 });
    await gw.put('route', { name: 'down', paths: ['/down'], methods: ['GET'], service: 'down' });
    assert.equal((await gw.proxy('/down')).status, 502);
  });
});

describe('gRPC through the proxy over h2c', () => {
  let client: grpc.Client & Record<string, any>;
  before(() => {
    client = grpcClient(proxyAddress);
  });
  after(() => client.close());

  it('unary call: the answer and the metadata the proxy adds', async () => {
    assert.deepEqual(await unary(client, { text: 'hi', count: 41 }), { text: 'echo: hi', count: 42 });
    assert.equal(grpcUp.lastMetadata()['x-dgate-route'], 'grpc');
  });

  it('an error status sent as trailers-only reaches the client with its message', async () => {
    await assert.rejects(unary(client, { text: 'status:5', count: 0 }), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND && err.details === 'asked for 5');
  });

  it('server streaming: every message, then status OK', async () => {
    const got = await serverStream(client, { text: 's', count: 5 });
    assert.deepEqual(got.map((m) => m.count), [0, 1, 2, 3, 4]);
  });

  it('client streaming: the messages the client sent, counted by the server', async () => {
    const res = await new Promise<Msg>((resolve, reject) => {
      const call = client.ClientStream({ deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, m: Msg) => (err ? reject(err) : resolve(m)));
      for (const text of ['a', 'b', 'c']) call.write({ text, count: 0 });
      call.end();
    });
    assert.deepEqual(res, { text: 'a,b,c', count: 3 });
  });

  it('bidirectional streaming: each message answered while the call is open', async () => {
    const call = client.Bidi({ deadline: Date.now() + 10_000 });
    const got: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('end', resolve);
      call.on('error', reject);
    });
    for (const text of ['one', 'two', 'three']) {
      const answered = new Promise<void>((resolve) => call.once('data', (m: Msg) => resolve(void got.push(m.text))));
      call.write({ text, count: 0 });
      // the answer to each message arrives before the next is sent: the streams flow both ways
      await answered;
    }
    call.end();
    await ended;
    assert.deepEqual(got, ['re: one', 're: two', 're: three']);
  });

  it('a deadline that expires: DEADLINE_EXCEEDED on time, and the upstream call is cancelled', async () => {
    const before = grpcUp.hangsEnded();
    const started = Date.now();
    await assert.rejects(unary(client, { text: 'hang', count: 0 }, 300), (err: grpc.ServiceError) => err.code === grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started < 5_000);
    await until(() => grpcUp.hangsEnded() === before + 1, 'the upstream call to be cancelled');
  });

  it("a server that fails mid-stream: the messages sent before, then the server's status", async () => {
    await assert.rejects(serverStream(client, { text: 'fail-after:2', count: 0 }), (err: grpc.ServiceError & { received: Msg[] }) => {
      assert.equal(err.code, grpc.status.INTERNAL);
      assert.equal(err.details, 'broke at 2');
      assert.equal(err.received.length, 2);
      return true;
    });
  });

  it('an upstream whose connection dies mid-stream: INTERNAL or UNAVAILABLE, not a hang', async () => {
    const dying = await startGrpcEchoServer();
    try {
      await gw.put('service', { name: 'dying', namespace: 'other', urls: [`http://127.0.0.1:${dying.port}`], http2Only: true, retries: 0 });
      await gw.put('route', { name: 'dying', paths: ['/dgate.test.Echo/ServerStream'], methods: ['POST'], service: 'dying', namespace: 'other' });
      const c = grpcClient(proxyAddress, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'h2.example' });
      try {
        await assert.rejects(serverStream(c, { text: 'crash-after:2', count: 0 }, 20_000), (err: grpc.ServiceError) => {
          assert.ok([grpc.status.INTERNAL, grpc.status.UNAVAILABLE].includes(err.code), `${err.code} ${err.details}`);
          return true;
        });
      } finally {
        c.close();
      }
    } finally {
      await dying.close();
    }
  });

  it('a route with modules (an asynchronous responseModifier): metadata added upstream, status and trailers intact', async () => {
    const src = `export const requestModifier = (ctx: any) => { ctx.request().headers.set('x-mod', 'yes'); };
export const responseModifier = async (ctx: any) => { await new Promise((r) => setTimeout(r, 20)); ctx.upstream().headers.set('x-resp-mod', '1'); };`;
    await gw.put('module', { name: 'm', namespace: 'other', payload: Buffer.from(src).toString('base64'), moduleType: 'typescript' });
    await gw.put('service', { name: 'grpcm', namespace: 'other', urls: [`http://127.0.0.1:${grpcUp.port}`], http2Only: true, retries: 0 });
    await gw.put('route', { name: 'grpcm', namespace: 'other', paths: ['/dgate.test.Echo/ServerStream'], methods: ['POST'], service: 'grpcm', modules: ['m'] });
    const c = grpcClient(proxyAddress, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'h2.example' });
    try {
      assert.deepEqual((await serverStream(c, { text: 'm', count: 3 })).length, 3);
      assert.equal(grpcUp.lastMetadata()['x-mod'], 'yes');
      await assert.rejects(serverStream(c, { text: 'fail-after:1', count: 0 }), (err: grpc.ServiceError) => err.code === grpc.status.INTERNAL && err.details === 'broke at 1');
    } finally {
      c.close();
    }
  });

  it('an upstream that is down: UNAVAILABLE', async () => {
    await gw.put('service', { name: 'gone', namespace: 'other', urls: [REFUSING_URL], http2Only: true, retries: 0 });
    await gw.put('route', { name: 'gone', paths: ['/dgate.test.Echo/Unary'], methods: ['POST'], service: 'gone', namespace: 'other' });
    const c = grpcClient(proxyAddress, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'h2.example' });
    try {
      await assert.rejects(unary(c, { text: 'x', count: 0 }), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
    } finally {
      c.close();
    }
  });
});

describe('h2 over TLS (ALPN) with proxy.enable_http2', () => {
  let tlsGw: TestGateway;
  let tlsPort: number;
  let cert: { cert: string; key: string };
  let h2sUp: Awaited<ReturnType<typeof startH2Upstream>>;
  before(async () => {
    cert = selfSignedCert();
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'dgate-h2-'));
    writeFileSync(join(dir, 'cert.pem'), cert.cert);
    writeFileSync(join(dir, 'key.pem'), cert.key);
    tlsPort = await freePort();
    tlsGw = await startTestGateway({ proxy: { enable_http2: true, tls: { port: tlsPort, cert_file: join(dir, 'cert.pem'), key_file: join(dir, 'key.pem') } } });
    h2sUp = await startH2Upstream(cert);
    await tlsGw.put('service', { name: 'echo', urls: [echo.url] });
    await tlsGw.put('route', { name: 'echo', paths: ['/echo/*'], methods: ['*'], service: 'echo' });
    await tlsGw.put('service', { name: 'grpc', urls: [`http://127.0.0.1:${grpcUp.port}`], http2Only: true });
    await tlsGw.put('route', { name: 'grpc', paths: ['/dgate.test.Echo/*'], methods: ['POST'], service: 'grpc' });
    await tlsGw.put('service', { name: 'h2s', urls: [h2sUp.origin], http2Only: true, tlsSkipVerify: true });
    await tlsGw.put('route', { name: 'h2s', paths: ['/h2s/*'], methods: ['*'], service: 'h2s' });
  });
  after(async () => {
    await tlsGw.close();
    await h2sUp.close();
  });

  it('curl --http2 negotiates h2; curl --http1.1 falls back to HTTP/1.1; both are https upstream', async () => {
    for (const [flag, line] of [['--http2', /^HTTP\/2 200/], ['--http1.1', /^HTTP\/1\.1 200/]] as const) {
      const { stdout } = await run('curl', ['-sS', '-i', '-k', flag, `https://127.0.0.1:${tlsPort}/echo/tls`]);
      assert.match(stdout, line);
      assert.deepEqual(JSON.parse(stdout.slice(stdout.indexOf('{'))).data.req_headers['X-Forwarded-Proto'], ['https']);
    }
  });

  it("a domain's certificate is chosen by SNI on the h2 listener", async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'dgate-h2-sni-'));
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=sni.test', '-addext', 'subjectAltName=DNS:sni.test']);
    const sni = { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
    await tlsGw.put('namespace', { name: 'sni' });
    await tlsGw.put('service', { name: 'echo', namespace: 'sni', urls: [echo.url] });
    await tlsGw.put('route', { name: 'echo', namespace: 'sni', paths: ['/echo/*'], methods: ['*'], service: 'echo' });
    await tlsGw.put('domain', { name: 'sni', namespace: 'sni', patterns: ['sni.test'], cert: sni.cert, key: sni.key });
    writeFileSync(join(dir, 'ca.pem'), sni.cert);
    // verified against the domain's own certificate: the fallback one would fail the handshake
    const { stdout } = await run('curl', ['-sS', '-i', '--http2', '--cacert', join(dir, 'ca.pem'), '--resolve', `sni.test:${tlsPort}:127.0.0.1`, `https://sni.test:${tlsPort}/echo/sni`]);
    assert.match(stdout, /^HTTP\/2 200/);
  });

  it('gRPC unary over h2 with TLS', async () => {
    const c = grpcClient(`localhost:${tlsPort}`, grpc.credentials.createSsl(Buffer.from(cert.cert)));
    try {
      assert.deepEqual(await unary(c, { text: 'tls', count: 1 }), { text: 'echo: tls', count: 2 });
    } finally {
      c.close();
    }
  });

  it('an https:// http2Only upstream is reached over h2 (ALPN), trailers included', async () => {
    const res = await h2request(`https://localhost:${tlsPort}`, '/h2s/a', { ca: cert.cert });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).version, 'h2');
    assert.equal(res.trailers?.['x-upstream-trailer'], 'done');
  });
});

describe('HTTP/2 limits (proxy.http2)', () => {
  let lim: TestGateway;
  let port: number;
  before(async () => {
    lim = await startTestGateway({
      proxy: { enable_http2: true, enable_h2c: true, http2: { max_concurrent_streams: 4, reset_limit: 20, reset_window: '10s', max_header_list_size: 4096 } },
    });
    port = Number(new URL(lim.proxyUrl).port);
    await lim.put('service', { name: 'echo', urls: [echo.url] });
    await lim.put('route', { name: 'echo', paths: ['/echo/*'], methods: ['*'], service: 'echo' });
  });
  after(() => lim.close());

  const get = (path: string) => [[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', path]] as const;

  it('advertises max_concurrent_streams; a client opening more at once never gets more served upstream', async () => {
    const c = await rawH2(port);
    try {
      const settings = await c.waitFor((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0);
      const values = new Map<number, number>();
      for (let i = 0; i + 6 <= settings!.payload.length; i += 6) values.set(settings!.payload.readUInt16BE(i), settings!.payload.readUInt32BE(i + 2));
      assert.equal(values.get(3), 4, 'SETTINGS_MAX_CONCURRENT_STREAMS');
      const before = echoHits;
      // six streams at once (the limit acknowledged) to a slow route: the fifth and sixth are over it
      for (let i = 0; i < 6; i++) c.send(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1 + 2 * i, headerBlock(get('/echo/slow?wait=300ms'))));
      // each stream over the limit is reset (REFUSED_STREAM or PROTOCOL_ERROR), or the whole connection goes
      await until(() => c.isClosed() || c.frames.some((f) => f.type === FRAME.GOAWAY) || [9, 11].every((id) => c.frames.some((f) => f.type === FRAME.RST_STREAM && f.stream === id)), 'streams 9 and 11 refused');
      await until(() => c.isClosed() || c.frames.some((f) => f.type === FRAME.GOAWAY) || c.frames.filter((f) => (f.flags & FLAG.END_STREAM) !== 0 || f.type === FRAME.RST_STREAM).length >= 6, 'every stream to end');
      assert.ok(echoHits - before <= 4, `${echoHits - before} requests reached the upstream`);
      assert.ok(!c.frames.some((f) => f.type === FRAME.HEADERS && (f.stream === 9 || f.stream === 11)), 'a stream over the limit was answered');
    } finally {
      c.close();
    }
  });

  it('a well-behaved client opening more streams than allowed has them queued: all answered, at most 4 at a time upstream', async () => {
    let inFlight = 0;
    let most = 0;
    const up = await import('node:http').then(({ createServer }) =>
      createServer((req, res) => {
        most = Math.max(most, ++inFlight);
        setTimeout(() => {
          inFlight--;
          res.end('ok');
        }, 50);
      }),
    );
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    try {
      await lim.put('service', { name: 'counted', urls: [`http://127.0.0.1:${(up.address() as { port: number }).port}`] });
      await lim.put('route', { name: 'counted', paths: ['/counted'], methods: ['GET'], service: 'counted' });
      const session = http2.connect(lim.proxyUrl);
      // the client learns the limit first (SETTINGS), then keeps the streams over it waiting
      await new Promise((resolve) => session.once('remoteSettings', resolve));
      try {
        const statuses = await Promise.all(
          Array.from({ length: 12 }, () => new Promise<number>((resolve, reject) => {
            const s = session.request({ ':path': '/counted' });
            s.on('response', (h) => resolve(Number(h[':status'])));
            s.on('error', reject);
            s.resume();
          })),
        );
        assert.deepEqual(statuses, Array(12).fill(200));
        assert.ok(most <= 4 && most >= 1, `${most} at once`);
      } finally {
        session.close();
      }
    } finally {
      up.close();
    }
  });

  it('rapid reset: a client cancelling streams past reset_limit gets GOAWAY ENHANCE_YOUR_CALM; others are still served', async () => {
    const c = await rawH2(port);
    try {
      for (let i = 0; i < 60; i++) {
        const id = 1 + 2 * i;
        c.send(Buffer.concat([frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, id, headerBlock(get('/echo/r?wait=1s'))), frame(FRAME.RST_STREAM, 0, id, Buffer.from([0, 0, 0, NGHTTP2_CANCEL]))]));
      }
      const goaway = await c.waitFor((f) => f.type === FRAME.GOAWAY);
      assert.ok(goaway !== null, 'no GOAWAY before the connection closed');
      assert.equal(errorCode(goaway), NGHTTP2_ENHANCE_YOUR_CALM);
      await c.closed;
    } finally {
      c.close();
    }
    const { stdout } = await run('curl', ['-sS', '-i', '--http2-prior-knowledge', `${lim.proxyUrl}/echo/after`]);
    assert.match(stdout, /^HTTP\/2 200/);
  });

  it('a header list over max_header_list_size is refused (431 or RST_STREAM) before the upstream', async () => {
    const before = echoHits;
    const c = await rawH2(port);
    try {
      c.send(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, headerBlock([...get('/echo/big?wait=1ms'), ['x-big', 'a'.repeat(6000)]])));
      const f = await c.waitFor((f) => f.stream === 1 && (f.type === FRAME.RST_STREAM || f.type === FRAME.HEADERS));
      if (f !== null && f.type === FRAME.HEADERS) {
        // ":status: 431" as a literal field (HPACK index 8 is :status 200, 13 is :status 404, ... none is 431)
        assert.ok(f.payload.includes(Buffer.from('431')), 'expected status 431');
      } else {
        assert.ok(f === null || f.type === FRAME.RST_STREAM);
      }
    } finally {
      c.close();
    }
    assert.equal(echoHits, before);
  });

  it('a CONTINUATION flood closes the connection before it is all read; the proxy keeps serving', async () => {
    const c = await rawH2(port);
    let sent = 0;
    try {
      c.send(frame(FRAME.HEADERS, 0, 1, headerBlock(get('/echo/flood'))));
      for (; sent < 5000 && !c.isClosed(); sent++) {
        c.send(frame(FRAME.CONTINUATION, 0, 1, headerBlock([[`x-c${sent}`, 'v'.repeat(100)]])));
        if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      await until(() => c.isClosed() || c.frames.some((f) => f.type === FRAME.GOAWAY), 'the connection to be closed');
    } finally {
      c.close();
    }
    assert.ok(sent < 5000, `all ${sent} CONTINUATION frames were taken`);
    const { stdout } = await run('curl', ['-sS', '-i', '--http2-prior-knowledge', `${lim.proxyUrl}/echo/after`]);
    assert.match(stdout, /^HTTP\/2 200/);
  });
});

describe('h2c with proxy workers', () => {
  it('every worker process takes HTTP/2 and HTTP/1.1 on the shared port', async () => {
    const proc = await startServerProcess({
      yaml: ({ proxy, admin }) =>
        `storage: { type: memory }\nproxy: { host: 127.0.0.1, port: ${proxy}, workers: 2, enable_http2: true, enable_h2c: true }\nadmin: { host: 127.0.0.1, port: ${admin} }\n`,
    });
    try {
      assert.equal(await putJson(proc.adminUrl, 'service', { name: 'echo', urls: [echo.url] }), 201);
      assert.equal(await putJson(proc.adminUrl, 'route', { name: 'echo', paths: ['/echo/*'], methods: ['*'], service: 'echo' }), 201);
      // several connections, so both workers are likely to take some; every one is answered
      const { stdout } = await run('h2load', ['-n', '200', '-c', '8', '-m', '5', `${proc.proxyUrl}/echo/w`]);
      assert.match(stdout, /200 succeeded, 0 failed, 0 errored/);
      const { stdout: h1 } = await run('h2load', ['--h1', '-n', '100', '-c', '4', `${proc.proxyUrl}/echo/w`]);
      assert.match(h1, /100 succeeded, 0 failed, 0 errored/);
    } finally {
      await stop(proc);
    }
  });
});

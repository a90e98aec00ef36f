/**
 * The proxy listener's limits, with real sockets, on whichever runtime runs the suite: head and
 * URL size (431/414), body size (413, streamed bodies counted), request smuggling (400, closed,
 * nothing smuggled upstream), the header, body and keep-alive deadlines, the connection cap.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runtimeName } from '../src/platform/runtime.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { openConnection, rawExchange } from './support/raw-client.js';
import { onBun } from './support/runtime.js';
import { until } from './support/until.js';

const H = 'Host: limits.test\r\n';

interface Seen {
  method: string;
  url: string;
  bytes: number;
  /** the whole body arrived */
  complete: boolean;
  /** the gateway dropped the request before its end */
  aborted: boolean;
}

/** An upstream that records every request it gets; `/slow` answers after `?ms=`. */
async function recordingUpstream(): Promise<{ server: http.Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const s: Seen = { method: req.method!, url: req.url!, bytes: 0, complete: false, aborted: false };
    seen.push(s);
    req.on('data', (d: Buffer) => (s.bytes += d.length));
    req.on('end', () => {
      s.complete = true;
      if (req.url!.startsWith('/stream')) {
        // a response stream with a pause longer than the idle timeout (server-sent events)
        res.write('first ');
        setTimeout(() => res.end('last'), 2500);
        return;
      }
      const ms = req.url!.startsWith('/slow') ? Number(new URL(req.url!, 'http://x').searchParams.get('ms') ?? 1000) : 0;
      setTimeout(() => res.end(`upstream ${s.bytes}`), ms);
    });
    req.on('close', () => {
      if (!s.complete) s.aborted = true;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function gatewayWith(proxy: Record<string, unknown>, upstreamUrl: string): Promise<{ gw: TestGateway; port: number }> {
  const gw = await startTestGateway({ proxy });
  await gw.put('service', { name: 'up', urls: [upstreamUrl], retries: 0 });
  await gw.put('route', { name: 'all', paths: ['/*'], methods: ['*'], service: 'up' });
  await gw.put('route', { name: 'small', paths: ['/small/*'], methods: ['*'], service: 'up', maxBodyBytes: 100 });
  await gw.put('route', { name: 'unlimited', paths: ['/unlimited/*'], methods: ['*'], service: 'up', maxBodyBytes: 0 });
  return { gw, port: Number(new URL(gw.proxyUrl).port) };
}

const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;

/** [what, raw bytes] — each must be answered 400 with the connection closed, and nothing smuggled upstream */
const SMUGGLING: Array<[string, string]> = [
  ['Content-Length and Transfer-Encoding (CL.TE)', `POST /p HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`],
  ['Transfer-Encoding and Content-Length (TE.CL)', `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET /smuggled HTTP/1.1\r\n${H}Content-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n`],
  ['two equal Content-Length headers', `POST /p HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhelloGET /smuggled HTTP/1.1\r\n${H}\r\n`],
  ['two different Content-Length headers', `POST /p HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 43\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`],
  ['a Content-Length list', `POST /p HTTP/1.1\r\n${H}Content-Length: 0, 43\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`],
  ['a non-numeric Content-Length', `POST /p HTTP/1.1\r\n${H}Content-Length: 1x\r\n\r\nxGET /smuggled HTTP/1.1\r\n${H}\r\n`],
  ['a Content-Length with a sign', `POST /p HTTP/1.1\r\n${H}Content-Length: +0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`],
  ['an unknown Transfer-Encoding', `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`],
  ['Transfer-Encoding chunked on HTTP/1.0', `POST /p HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 43\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`],
  ['a negative Content-Length', `POST /p HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`],
  ['an obs-fold header line', `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n chunked\r\nContent-Length: 0\r\n\r\n`],
  ['a bare LF ending a header line', `POST /p HTTP/1.1\r\n${H}Content-Length: 0\nX-A: 1\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`],
  ['an invalid chunk size', `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n\r\n0\r\n\r\n`],
  ['a chunk size that overflows', `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n10000000000000001\r\nx\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`],
  ['a Transfer-Encoding that does not end in chunked', `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`],
];

/**
 * The limits suites on one listener: node:http on Node; on Bun, each of the plain port's two
 * servers (proxy.bun_listener), since Bun.serve keeps some limits of its own.
 */
function listenerSuites(listener: 'bun_serve' | 'node_http' | null): void {
  const name = listener === null ? runtimeName : `${runtimeName}, bun_listener: ${listener}`;
  const chosen = listener === null ? {} : { bun_listener: listener };
  const bunServe = listener === 'bun_serve';

  describe(`listener limits (${name})`, () => {
    let up: Awaited<ReturnType<typeof recordingUpstream>>;
    let gw: TestGateway;
    let port: number;

    before(async () => {
      up = await recordingUpstream();
      ({ gw, port } = await gatewayWith({ ...chosen, max_body_bytes: 1000, read_header_timeout: '1s', read_timeout: '2s', idle_timeout: '1s' }, up.url));
    });
    after(async () => {
      await gw?.close();
      await new Promise((r) => up?.server.close(r));
    });

    it('a request within every limit reaches the upstream (what follows is not refused for another reason)', async () => {
      up.seen.length = 0;
      const r = await rawExchange(port, `POST /p?${'q'.repeat(7000)} HTTP/1.1\r\n${H}X-Fill: ${'f'.repeat(8000)}\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n${'b'.repeat(1000)}`);
      assert.equal(r.status, 200, r.data.slice(0, 200));
      assert.equal(up.seen.length, 1);
      assert.equal(up.seen[0].bytes, 1000);
    });

    it('a 64 KiB header is answered 431 and the connection closed', async () => {
      up.seen.length = 0;
      const r = await rawExchange(port, `GET /p HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      assert.equal(r.status, 431, r.data.slice(0, 200));
      assert.ok(r.closed, 'connection left open');
      assert.equal(up.seen.length, 0);
    });

    it('a head over 16 KiB in many header lines is answered 431', async () => {
      const lines = Array.from({ length: 40 }, (_, i) => `X-H${i}: ${'v'.repeat(500)}\r\n`).join('');
      const r = await rawExchange(port, `GET /p HTTP/1.1\r\n${H}${lines}\r\n`);
      assert.equal(r.status, 431, r.data.slice(0, 200));
      assert.ok(r.closed);
    });

    it('a 10 KiB URL is answered 414 and the connection closed', async () => {
      up.seen.length = 0;
      const r = await rawExchange(port, `GET /${'u'.repeat(10 * 1024)} HTTP/1.1\r\n${H}\r\n`);
      assert.equal(r.status, 414, r.data.slice(0, 200));
      assert.ok(r.closed);
      assert.equal(up.seen.length, 0);
    });

    it(`a 100 KiB URL is answered ${bunServe ? "431 (past Bun.serve's own 16 KiB head limit)" : '414'} and the connection closed`, async () => {
      up.seen.length = 0;
      const r = await rawExchange(port, `GET /${'u'.repeat(100 * 1024)} HTTP/1.1\r\n${H}\r\n`);
      assert.equal(r.status, bunServe ? 431 : 414, r.data.slice(0, 200));
      assert.ok(r.closed);
      assert.equal(up.seen.length, 0);
    });

    it('a declared body over proxy.max_body_bytes is answered 413 at once; nothing is sent upstream', async () => {
      up.seen.length = 0;
      const r = await rawExchange(port, `POST /p HTTP/1.1\r\n${H}Content-Length: 5000\r\n\r\n${'b'.repeat(100)}`);
      assert.equal(r.status, 413, r.data.slice(0, 200));
      assert.ok(r.closed);
      assert.equal(up.seen.length, 0);
    });

    it('a chunked body that grows past the limit is cut with 413, the connection closed and the upstream request aborted', async () => {
      up.seen.length = 0;
      const head = `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`;
      // 600 bytes (within the limit: the request goes upstream), then 600 more
      const r = await rawExchange(port, [head + chunk('a'.repeat(600)), chunk('b'.repeat(600)), chunk('c'.repeat(600)) + '0\r\n\r\n'], { gapMs: 300 });
      assert.equal(r.status, 413, r.data.slice(0, 200));
      assert.ok(r.closed);
      await until(() => up.seen.length === 0 || up.seen[0].aborted, 'the upstream request to be aborted');
      assert.ok(up.seen.every((s) => !s.complete && s.bytes <= 1000), JSON.stringify(up.seen));
    });

    it("a route's maxBodyBytes overrides proxy.max_body_bytes (smaller: 413; 0: no limit)", async () => {
      const small = await rawExchange(port, `POST /small/p HTTP/1.1\r\n${H}Content-Length: 200\r\nConnection: close\r\n\r\n${'b'.repeat(200)}`);
      assert.equal(small.status, 413);
      const chunked = await rawExchange(port, `POST /small/p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${chunk('a'.repeat(150))}0\r\n\r\n`);
      assert.equal(chunked.status, 413);
      assert.ok(chunked.closed);
      up.seen.length = 0;
      const big = await rawExchange(port, `POST /unlimited/p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk('a'.repeat(3000))}0\r\n\r\n`);
      assert.equal(big.status, 200, big.data.slice(0, 200));
      assert.equal(up.seen[0].bytes, 3000);
    });

    it('on a module route the body limit holds too: a requestHandler reading a chunked body past it gets nothing; the client gets 413', async () => {
      const source = 'export async function requestHandler(ctx: any) { const body = await ctx.request().readText(); ctx.response().status(200).send(`read ${body.length}`); }';
      await gw.put('module', { name: 'reader', payload: Buffer.from(source).toString('base64') });
      await gw.put('route', { name: 'module-small', paths: ['/module-small/*'], methods: ['*'], modules: ['reader'], maxBodyBytes: 100 });
      const within = await rawExchange(port, `POST /module-small/p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk('a'.repeat(80))}0\r\n\r\n`);
      assert.equal(within.status, 200, within.data.slice(0, 300));
      assert.match(within.data, /read 80(\r\n|$)/);
      const past = await rawExchange(port, [`POST /module-small/p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${chunk('a'.repeat(80))}`, chunk('b'.repeat(80))], { gapMs: 200 });
      assert.equal(past.status, 413, past.data.slice(0, 300));
      assert.ok(past.closed);
      assert.equal((past.data.match(/HTTP\/1\.1 \d{3}/g) ?? []).length, 1, past.data);
    });

    it('a route with a bad maxBodyBytes is refused with 400 naming the field, and nothing changes', async () => {
      for (const bad of [-1, 1.5, '100']) {
        const res = await gw.admin('PUT', '/api/v1/route', { name: 'bad', paths: ['/bad'], methods: ['GET'], service: 'up', maxBodyBytes: bad });
        assert.equal(res.status, 400);
        assert.match(JSON.stringify(res.body), /maxBodyBytes/);
      }
      const got = await gw.admin('GET', '/api/v1/route/bad');
      assert.equal(got.status, 404);
      const small = await gw.admin('GET', '/api/v1/route/small');
      assert.equal(small.body.data.maxBodyBytes, 100);
    });

    it('a client that sends its head one byte at a time is cut within the header timeout', { timeout: 30_000 }, async () => {
      up.seen.length = 0;
      const head = `GET /p HTTP/1.1\r\n${H}X-Slow: ${'s'.repeat(100)}\r\n\r\n`;
      // node:http: proxy.read_header_timeout (1s here); Bun.serve: its own fixed 10 s head deadline
      const r = await rawExchange(port, head.split(''), { gapMs: 200, waitMs: 25_000 });
      assert.ok(r.closed, 'the connection was still open after 25 s');
      assert.ok(r.ms < (bunServe ? 20_000 : 5_000), `closed after ${r.ms} ms`);
      if (!bunServe) assert.equal(r.status, 408);
      assert.equal(up.seen.length, 0);
    });

    it(`a connection that never sends a byte is closed (${bunServe ? "Bun.serve's own 10 s head deadline" : 'proxy.read_header_timeout'})`, { timeout: 30_000 }, async () => {
      const c = await openConnection(port);
      const ms = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 20_000))]);
      c.socket.destroy();
      assert.ok(ms >= 0, 'still open after 20 s');
    });

    it('a body that does not arrive within proxy.read_timeout is answered 408 and the connection closed', async () => {
      up.seen.length = 0;
      const r = await rawExchange(port, `POST /p HTTP/1.1\r\n${H}Content-Length: 500\r\n\r\n${'b'.repeat(100)}`, { waitMs: 10_000 });
      assert.ok(r.closed, 'the connection was still open after 10 s');
      assert.equal(r.status, 408, r.data.slice(0, 200));
      assert.ok(r.ms < 8_000, `closed after ${r.ms} ms`);
      await until(() => up.seen.every((s) => s.aborted), 'the upstream request to be aborted');
    });

    it('an idle keep-alive connection is closed after proxy.idle_timeout; a slow upstream answer is not cut by it', async () => {
      const idle = await rawExchange(port, `GET /p HTTP/1.1\r\n${H}\r\n`, { waitMs: 15_000 });
      assert.equal(idle.status, 200);
      assert.ok(idle.closed, 'idle connection still open after 15 s');
      const slow = await rawExchange(port, `GET /slow?ms=6000 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, { waitMs: 15_000 });
      assert.equal(slow.status, 200, slow.data.slice(0, 200));
      assert.match(slow.data, /upstream 0$/);
    });

    it('a response stream that pauses longer than proxy.idle_timeout is not cut; the connection is closed once idle after it', async () => {
      const r = await rawExchange(port, `GET /stream HTTP/1.1\r\n${H}\r\n`, { waitMs: 20_000 });
      assert.equal(r.status, 200, r.data.slice(0, 300));
      assert.match(r.data, /first /);
      assert.match(r.data, /last/);
      assert.ok(r.closed, 'idle connection still open after the stream');
    });
  });

  describe(`request smuggling (${name})`, () => {
    let up: Awaited<ReturnType<typeof recordingUpstream>>;
    let gw: TestGateway;
    let port: number;

    before(async () => {
      up = await recordingUpstream();
      ({ gw, port } = await gatewayWith({ ...chosen }, up.url));
    });
    after(async () => {
      await gw?.close();
      await new Promise((r) => up?.server.close(r));
    });

    for (const [what, raw] of SMUGGLING) {
      it(`${what}: 400, the connection closed, the upstream never sees a second request`, async () => {
        up.seen.length = 0;
        const r = await rawExchange(port, raw);
        assert.equal(r.status, 400, r.data.slice(0, 200));
        assert.ok(r.closed, 'connection left open');
        assert.equal((r.data.match(/HTTP\/1\.1 \d{3}/g) ?? []).length, 1, `more than one answer: ${r.data.slice(0, 300)}`);
        assert.ok(up.seen.length <= 1, JSON.stringify(up.seen));
        assert.ok(!up.seen.some((s) => s.url.includes('smuggled')), JSON.stringify(up.seen));
      });
    }

    it(`a bare LF ending the request line: ${bunServe ? "505 (Bun.serve's parser)" : '400'}, the connection closed`, async () => {
      up.seen.length = 0;
      const r = await rawExchange(port, `GET /p HTTP/1.1\n${H}\r\n`);
      assert.equal(r.status, bunServe ? 505 : 400, r.data.slice(0, 200));
      assert.ok(r.closed);
      assert.equal(up.seen.length, 0);
    });
  });

  describe(`connection cap (${name})`, () => {
    let up: Awaited<ReturnType<typeof recordingUpstream>>;
    let gw: TestGateway;
    let port: number;

    before(async () => {
      up = await recordingUpstream();
      ({ gw, port } = await gatewayWith({ ...chosen, max_connections: 5 }, up.url));
    });
    after(async () => {
      await gw?.close();
      await new Promise((r) => up?.server.close(r));
    });

    it('with 5 requests in flight a 6th connection is refused (closed, or 503 and closed); the 5 are answered', async () => {
      up.seen.length = 0;
      const five = Array.from({ length: 5 }, () => rawExchange(port, `GET /slow?ms=6000 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, { waitMs: 15_000 }));
      await until(() => up.seen.length === 5, 'five requests at the upstream');
      const sixth = await rawExchange(port, `GET /p HTTP/1.1\r\n${H}\r\n`, { waitMs: 5000 });
      assert.ok(sixth.closed, 'the sixth connection was kept open');
      assert.ok(sixth.status === 0 || sixth.status === 503, `sixth answered ${sixth.status}`);
      assert.equal(up.seen.length, 5);
      for (const r of await Promise.all(five)) assert.equal(r.status, 200);
      // below the cap again
      const later = await rawExchange(port, `GET /p HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      assert.equal(later.status, 200);
    });

    it('with 5 idle connections open a 6th is closed at once; the 5 still work', { skip: bunServe ? 'Bun.serve does not expose connections: under it the cap counts requests in flight (README "Runtimes")' : false }, async () => {
      const conns = await Promise.all(Array.from({ length: 5 }, () => openConnection(port)));
      const sixth = await openConnection(port);
      const ms = await Promise.race([sixth.closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
      assert.ok(ms >= 0, 'the sixth connection was kept open');
      for (const c of conns) c.socket.write(`GET /p HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      await Promise.all(conns.map((c) => c.closed));
      for (const c of conns) assert.match(c.data(), /^HTTP\/1\.1 200/);
    });
  });
}

if (onBun) {
  listenerSuites('bun_serve');
  listenerSuites('node_http');
} else {
  listenerSuites(null);
}

describe('the HTTP/1.1 side of a port that also takes h2c keeps the deadlines', { timeout: 60_000 }, () => {
  let up: Awaited<ReturnType<typeof recordingUpstream>>;
  let gw: TestGateway;
  let port: number;
  before(async () => {
    up = await recordingUpstream();
    ({ gw, port } = await gatewayWith({ enable_http2: true, enable_h2c: true, read_header_timeout: '1s', read_timeout: '2s', idle_timeout: '1s' }, up.url));
  });
  after(async () => {
    await gw?.close();
    await new Promise((r) => up?.server.close(r));
  });

  it('a request gets through', async () => {
    const r = await rawExchange(port, `GET /p HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.equal(r.status, 200, r.data.slice(0, 200));
  });

  it('a head sent one byte at a time is answered 408 and closed within the header timeout', { timeout: 30_000 }, async () => {
    up.seen.length = 0;
    const head = `GET /p HTTP/1.1\r\n${H}X-Slow: ${'s'.repeat(100)}\r\n\r\n`;
    const r = await rawExchange(port, head.split(''), { gapMs: 200, waitMs: 25_000 });
    assert.ok(r.closed, 'the connection was still open after 25 s');
    assert.ok(r.ms < 5_000, `closed after ${r.ms} ms`);
    assert.equal(r.status, 408);
    assert.equal(up.seen.length, 0);
  });

  it('an idle keep-alive connection is closed after proxy.idle_timeout', async () => {
    const idle = await rawExchange(port, `GET /p HTTP/1.1\r\n${H}\r\n`, { waitMs: 15_000 });
    assert.equal(idle.status, 200);
    assert.ok(idle.closed, 'idle connection still open after 15 s');
    assert.ok(idle.ms < 8_000, `closed after ${idle.ms} ms`);
  });
});

describe(`head limits below the parser's own (${runtimeName})`, () => {
  let up: Awaited<ReturnType<typeof recordingUpstream>>;
  let gw: TestGateway;
  let port: number;

  before(async () => {
    up = await recordingUpstream();
    ({ gw, port } = await gatewayWith({ max_header_bytes: 4096, max_url_bytes: 1024 }, up.url));
  });
  after(async () => {
    await gw?.close();
    await new Promise((r) => up?.server.close(r));
  });

  it('a GET whose head is over max_header_bytes is answered 431 and never reaches the upstream', async () => {
    up.seen.length = 0;
    const r = await rawExchange(port, `GET /p HTTP/1.1\r\n${H}X-Fill: ${'f'.repeat(6000)}\r\n\r\n`);
    assert.equal(r.status, 431, r.data.slice(0, 200));
    assert.ok(r.closed, 'connection left open');
    assert.equal(up.seen.length, 0);
  });

  it('a GET whose URL is over max_url_bytes is answered 414 and never reaches the upstream', async () => {
    up.seen.length = 0;
    const r = await rawExchange(port, `GET /${'u'.repeat(2000)} HTTP/1.1\r\n${H}\r\n`);
    assert.equal(r.status, 414, r.data.slice(0, 200));
    assert.ok(r.closed);
    assert.equal(up.seen.length, 0);
  });

  it('a GET within both limits reaches the upstream', async () => {
    up.seen.length = 0;
    const r = await rawExchange(port, `GET /p HTTP/1.1\r\n${H}X-Fill: ${'f'.repeat(3000)}\r\nConnection: close\r\n\r\n`);
    assert.equal(r.status, 200, r.data.slice(0, 200));
    assert.equal(up.seen.length, 1);
  });
});

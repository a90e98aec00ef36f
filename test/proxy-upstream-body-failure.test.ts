/**
 * An upstream whose body breaks after its head (fewer bytes than its Content-Length, a chunked
 * body cut by a reset), through the real dgate-server on the runtime the tests run on, on a
 * passthrough route and on a module route (responseModifier): the client's connection is cut
 * (never a complete-looking answer), the access-log line says `"error":"upstream_body"` and the
 * metrics count an upstream error. And a streamed answer's head (text/event-stream, first chunk
 * 1.5 s later) reaches the client before its first chunk: heads are not held.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { total, parsePrometheus } from './support/prometheus.js';
import { request } from './support/http.js';
import { rawExchange } from './support/raw-client.js';
import { BUN_LIMITS, unlessBun } from './support/runtime.js';
import { putJson, startServerProcess, stop, type ServerProcess } from './support/server-process.js';
import { until } from './support/until.js';

const MODIFIER = `export function responseModifier(ctx: any) {
  ctx.upstream().headers.set('X-Modified', '1');
}
`;

/** the first chunk of /sse comes this long after its head, ms */
const SSE_GAP_MS = 1500;

/** An upstream speaking raw HTTP/1.1: /short, /chunked and /sse (see the file's comment). */
function startBrokenUpstream(): Promise<{ url: string; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      const path = /^GET (\S+)/.exec(head)?.[1] ?? '';
      if (path.startsWith('/short')) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789', () => setTimeout(() => socket.destroy(), 50));
      } else if (path.startsWith('/chunked')) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n', () => setTimeout(() => socket.resetAndDestroy(), 50));
      } else if (path.startsWith('/sse')) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n');
        setTimeout(() => socket.end('d\r\ndata: first\n\n\r\n0\r\n\r\n'), SSE_GAP_MS);
      } else socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    };
    socket.on('data', onData);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      });
    });
  });
}

type Line = Record<string, unknown>;

function accessLines(file: string): Line[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l['source'] === 'access');
}

async function upstreamErrors(adminUrl: string): Promise<number> {
  const res = await request(`${adminUrl}/metrics`);
  return total(parsePrometheus(await res.body.text()), 'dgate_upstream_errors_total', { service: 'broken' });
}

/** Time until the answer's head, and until its first body bytes, ms; the rest of the answer. */
function timedGet(port: number, path: string): Promise<{ headMs: number; bodyMs: number; data: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let data = '';
    let headMs = -1;
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no first chunk within 10 s; got ${JSON.stringify(data)}`));
    }, 10_000);
    socket.on('error', reject);
    socket.on('data', (d) => {
      data += d.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      if (headMs < 0) headMs = performance.now() - t0;
      if (data.includes('data: first')) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ headMs, bodyMs: performance.now() - t0, data });
      }
    });
  });
}

describe('an upstream body that breaks after its head', { timeout: 60_000 }, () => {
  let upstream: { url: string; close: () => void };
  let server: ServerProcess;
  let logFile: string;
  let proxyPort: number;
  before(async () => {
    upstream = await startBrokenUpstream();
    server = await startServerProcess({
      yaml: (p) => `
log_level: warn
storage: { type: memory }
proxy:
  host: 127.0.0.1
  port: ${p.proxy}
  workers: 0
  access_log: { enabled: true, file: access.log }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
    });
    logFile = join(server.dir, 'access.log');
    proxyPort = Number(new URL(server.proxyUrl).port);
    const put = async (kind: string, body: unknown) => assert.equal(await putJson(server.adminUrl, kind, body), 201, `PUT ${kind}`);
    await put('service', { name: 'broken', urls: [upstream.url] });
    await put('module', { name: 'modifier', payload: Buffer.from(MODIFIER).toString('base64'), moduleType: 'typescript' });
    await put('route', { name: 'pass', paths: ['/pass/*'], methods: ['GET'], service: 'broken', stripPath: true });
    await put('route', { name: 'mod', paths: ['/mod/*'], methods: ['GET'], service: 'broken', stripPath: true, modules: ['modifier'] });
  });
  after(async () => {
    if (server !== undefined) await stop(server);
    upstream?.close();
  });

  /** asks for /<route>/<kind>: the client's connection is cut, never a complete-looking answer */
  async function cutAnswer(route: string, kind: string, id: string): Promise<void> {
    const ex = await rawExchange(proxyPort, `GET /${route}/${kind} HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: ${id}\r\n\r\n`, { waitMs: 10_000 });
    assert.ok(ex.closed, `the client's connection is closed (got ${JSON.stringify(ex.data)})`);
    // what came (if anything) is a 200 head and part of the body
    if (ex.data.length > 0) {
      assert.equal(ex.status, 200, ex.data);
      const body = ex.data.slice(ex.data.indexOf('\r\n\r\n') + 4);
      const cl = /\r\ncontent-length: *(\d+)/i.exec(ex.data);
      if (cl !== null) assert.ok(Buffer.byteLength(body, 'latin1') < Number(cl[1]), `fewer bytes than the Content-Length: ${JSON.stringify(ex.data)}`);
      else assert.ok(!/(^|\r\n)0\r\n\r\n$/.test(body), `no last chunk: ${JSON.stringify(ex.data)}`);
    }
  }

  for (const route of ['pass', 'mod']) {
    for (const kind of ['short', 'chunked']) {
      const what = kind === 'short' ? '10 of 100 bytes then the socket closed' : 'a chunked body cut by a reset';
      it(`${route} route, ${what}: the client's connection is cut`, async () => {
        await cutAnswer(route, kind, `cut-${route}-${kind}`);
      });

      it(`${route} route, ${what}: the access-log line and the metrics say so`, unlessBun(BUN_LIMITS.bodyFailureUnseen), async () => {
        const errorsBefore = await upstreamErrors(server.adminUrl);
        const id = `seen-${route}-${kind}`;
        await cutAnswer(route, kind, id);
        let line: Line | undefined;
        await until(() => (line = accessLines(logFile).find((l) => l['request_id'] === id)) !== undefined, `the access-log line of ${id}`);
        assert.equal(line!['error'], 'upstream_body', JSON.stringify(line));
        assert.equal(line!['route'], route);
        assert.equal(line!['status'], 200, 'status: the head the upstream sent');
        await until(async () => (await upstreamErrors(server.adminUrl)) === errorsBefore + 1, 'dgate_upstream_errors_total counts the attempt');
      });
    }
  }

  it('an answer that completes has no error field in its access-log line', async () => {
    const ex = await rawExchange(proxyPort, 'GET /pass/sse HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: whole-sse\r\nConnection: close\r\n\r\n', { waitMs: 10_000 });
    assert.equal(ex.status, 200);
    assert.ok(ex.data.includes('data: first'), ex.data);
    let line: Line | undefined;
    await until(() => (line = accessLines(logFile).find((l) => l['request_id'] === 'whole-sse')) !== undefined, 'the access-log line of whole-sse');
    assert.equal('error' in line!, false, JSON.stringify(line));
  });

  for (const route of ['pass', 'mod']) {
    it(`${route} route: a streamed answer's head reaches the client before its first chunk (${SSE_GAP_MS} ms later)`, unlessBun(BUN_LIMITS.headWithFirstChunk), async () => {
      const t = await timedGet(proxyPort, `/${route}/sse`);
      assert.match(t.data, /^HTTP\/1\.1 200/);
      assert.match(t.data, /content-type: text\/event-stream/i);
      assert.ok(t.bodyMs >= SSE_GAP_MS - 100, `the first chunk came after the upstream's gap (${t.bodyMs} ms)`);
      assert.ok(t.headMs < 500 && t.bodyMs - t.headMs > 1000, `head after ${t.headMs.toFixed(0)} ms, first chunk after ${t.bodyMs.toFixed(0)} ms`);
    });
  }
});

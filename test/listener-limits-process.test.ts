/**
 * The listener's URL and header limits in a dgate-server process with proxy workers, on the
 * runtime the tests run on: a 100 KiB URL is 414 and a 64 KiB header 431 on Node and on Bun
 * (whose workers get a parser head limit above the listener's own, see parser-head-limit.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openConnection, rawExchange } from './support/raw-client.js';
import { onBun } from './support/runtime.js';
import { until } from './support/until.js';
import { startServerProcess, stop, type ServerProcess } from './support/server-process.js';

describe('listener limits in a dgate-server process with a proxy worker', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  let port: number;
  before(async () => {
    server = await startServerProcess({
      yaml: (p) => `
log_level: warn
storage: { type: memory }
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 1 }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
    });
    port = Number(new URL(server.proxyUrl).port);
  });
  after(async () => {
    if (server !== undefined) await stop(server);
  });

  it('a 100 KiB URL is answered 414 and the connection closed', async () => {
    const r = await rawExchange(port, `GET /${'a'.repeat(100 * 1024)} HTTP/1.1\r\nHost: x.test\r\n\r\n`);
    assert.equal(r.status, 414, r.data.slice(0, 200));
    assert.equal(r.closed, true);
  });

  it('a 64 KiB header is answered 431 and the connection closed', async () => {
    const r = await rawExchange(port, `GET / HTTP/1.1\r\nHost: x.test\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`);
    assert.equal(r.status, 431, r.data.slice(0, 200));
    assert.equal(r.closed, true);
  });

  it('a normal request on a new connection still gets through the listener (404: no namespace route)', async () => {
    const r = await rawExchange(port, 'GET /nothing HTTP/1.1\r\nHost: x.test\r\nConnection: close\r\n\r\n');
    assert.equal(r.status, 404, r.data.slice(0, 200));
  });
});

/**
 * Limits Bun.serve cannot keep (a head deadline other than its own 10 s, a connection cap)
 * put Bun's plain port on Bun's node:http (proxy.bun_listener: auto): in a dgate-server process
 * with two proxy workers (each binding the port), they hold as on Node.
 */
describe('a head deadline and a connection cap in a dgate-server process with proxy workers', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  let port: number;
  before(async () => {
    server = await startServerProcess({
      yaml: (p) => `
log_level: info
storage: { type: memory }
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 2, read_header_timeout: 4s, max_connections: 3 }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
    });
    port = Number(new URL(server.proxyUrl).port);
  });
  after(async () => {
    if (server !== undefined) await stop(server);
  });

  it(`the ready line names the listener${onBun ? ' (node_http on Bun)' : ''}`, () => {
    const ready = server.output().split('\n').find((l) => l.includes('"dgate ready"'));
    assert.ok(ready !== undefined, server.output());
    assert.equal(JSON.parse(ready).bunListener, onBun ? 'node_http' : undefined);
  });

  it('a head sent a byte every 500 ms is answered 408 and closed within the deadline', async () => {
    const head = 'GET / HTTP/1.1\r\nHost: x.test\r\nX-Slow: sssss\r\n\r\n';
    const r = await rawExchange(port, head.split(''), { gapMs: 500, waitMs: 15_000 });
    assert.equal(r.status, 408, r.data.slice(0, 200));
    assert.ok(r.closed);
    assert.ok(r.ms < 8_000, `closed after ${r.ms} ms`);
  });

  it('a bare LF after the request line is answered 400 and closed', async () => {
    const r = await rawExchange(port, 'GET / HTTP/1.1\nHost: x.test\r\n\r\n');
    assert.equal(r.status, 400, r.data.slice(0, 200));
    assert.ok(r.closed);
  });

  it('idle connections are capped per worker: past the cap of both, new connections are closed at once', async () => {
    // 8 connections over two workers capped at 3 each: at least 2 are refused however they are dealt
    const conns = await Promise.all(Array.from({ length: 8 }, () => openConnection(port)));
    let closed = 0;
    for (const c of conns) void c.closed.then(() => closed++);
    // well within the 4 s head deadline, which closes idle connections too
    await until(() => closed >= 2, 'two of 8 connections refused', 2000);
    // the kept ones still serve; a refused one answers nothing
    for (const c of conns) if (!c.socket.destroyed) c.socket.write('GET /nothing HTTP/1.1\r\nHost: x.test\r\nConnection: close\r\n\r\n');
    await Promise.all(conns.map((c) => c.closed));
    const served = conns.filter((c) => /^HTTP\/1\.1 404/.test(c.data())).length;
    const refused = conns.filter((c) => c.data() === '').length;
    assert.equal(served + refused, 8, conns.map((c) => c.data().slice(0, 20)).join(' | '));
    assert.ok(served >= 3 && served <= 6, `${served} connections served`);
  });
});

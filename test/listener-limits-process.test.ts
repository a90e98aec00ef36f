/**
 * The listener's URL and header limits in a dgate-server process with proxy workers, on the
 * runtime the tests run on: a 100 KiB URL is 414 and a 64 KiB header 431 on Node and on Bun
 * (whose workers get a parser head limit above the listener's own, see parser-head-limit.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawExchange } from './support/raw-client.js';
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

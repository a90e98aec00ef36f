/**
 * Bad input at the proxy listener, on whichever runtime runs the suite: malformed requests,
 * oversized heads and request-smuggling attempts are refused by the listener (400/431) and never
 * reach the upstream.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runtimeName } from '../src/platform/runtime.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const HEAD = 'Host: probe.test\r\n';

/** [what, raw request bytes, statuses accepted] */
const PROBES: Array<[string, string, number[]]> = [
  ['Content-Length and Transfer-Encoding together (CL.TE)', `POST /p HTTP/1.1\r\n${HEAD}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${HEAD}\r\n`, [400]],
  ['two different Content-Length values', `POST /p HTTP/1.1\r\n${HEAD}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, [400]],
  ['a Transfer-Encoding other than chunked last (TE obfuscation)', `POST /p HTTP/1.1\r\n${HEAD}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, [400, 501]],
  ['whitespace between a header name and the colon', `POST /p HTTP/1.1\r\n${HEAD}Content-Length : 5\r\n\r\nhello`, [400]],
  ['a control character in a header name', `GET /p HTTP/1.1\r\n${HEAD}X-Bad\x01Name: 1\r\n\r\n`, [400]],
  ['an obsolete folded header line', `GET /p HTTP/1.1\r\n${HEAD}X-Folded: a\r\n b\r\n\r\n`, [400]],
  ['a malformed request line', `GET /p HTTP/1.1 trailing-garbage\r\n${HEAD}\r\n`, [400, 505]],
  ['a non-numeric Content-Length', `POST /p HTTP/1.1\r\n${HEAD}Content-Length: 5x\r\n\r\nhello`, [400]],
  ['an oversized header (64 KiB)', `GET /p HTTP/1.1\r\n${HEAD}X-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`, [431]],
];

/** Sends raw bytes on a new connection; resolves with the status of the first answer (0 if none came). */
function probe(port: number, raw: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(raw, 'latin1'));
    let data = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m === null ? 0 : Number(m[1]));
    };
    // the listener answers and closes; a listener that waits for more bytes is cut off here
    const timer = setTimeout(done, 5000);
    socket.on('data', (d) => {
      data += d.toString('latin1');
      if (/\r\n\r\n/.test(data)) done();
    });
    socket.on('error', done);
    socket.on('close', done);
  });
}

describe(`listener probes (${runtimeName})`, () => {
  let upstream: http.Server;
  let reached: string[] = [];
  let gw: TestGateway;
  let port: number;

  before(async () => {
    upstream = http.createServer((req, res) => {
      reached.push(`${req.method} ${req.url}`);
      req.resume();
      res.end('upstream');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    gw = await startTestGateway();
    await gw.put('service', { name: 'up', urls: [`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`], retries: 0 });
    await gw.put('route', { name: 'all', paths: ['/*'], methods: ['*'], service: 'up' });
    port = Number(new URL(gw.proxyUrl).port);
  });
  after(async () => {
    await gw?.close();
    await new Promise((r) => upstream?.close(r));
  });

  it('a well-formed request through the same route reaches the upstream (the probes below are not refused for another reason)', async () => {
    reached = [];
    const status = await probe(port, `POST /p HTTP/1.1\r\n${HEAD}Content-Length: 5\r\nConnection: close\r\n\r\nhello`);
    assert.equal(status, 200);
    assert.deepEqual(reached, ['POST /p']);
  });

  for (const [what, raw, statuses] of PROBES) {
    it(`refuses ${what} with ${statuses.join(' or ')}, and nothing reaches the upstream`, async () => {
      reached = [];
      const status = await probe(port, raw);
      assert.ok(statuses.includes(status), `answered ${status}`);
      assert.deepEqual(reached, []);
    });
  }
});

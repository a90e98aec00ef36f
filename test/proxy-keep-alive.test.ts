/**
 * proxy.client_transport.keep_alive: upstream connections get TCP keep-alive with that idle time
 * before the first probe. Observed in the kernel's own table of sockets (/proc/net/tcp: the
 * keep-alive timer and when it fires), for the proxy's end of a real upstream connection.
 */
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { startTestGateway } from './support/gateway.js';
import { BUN_LIMITS, onBun } from './support/runtime.js';

const PROC_TCP = '/proc/net/tcp';
const procReadable = await access(PROC_TCP).then(() => true, () => false);

/** Ticks per second of /proc/net/tcp's tm->when column (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The timer of the established IPv4 loopback socket whose local port is `port`: {timer: 2 = keep-alive, secondsLeft}. */
async function socketTimer(port: number): Promise<{ timer: number; secondsLeft: number }> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const rows = (await readFile(PROC_TCP, 'utf8')).split('\n').map((l) => l.trim().split(/\s+/));
  // the established one (state 01): an earlier connection on the same local port may linger in TIME_WAIT
  const row = rows.find((r) => r[1] === `0100007F:${hex}` && r[3] === '01');
  assert.ok(row !== undefined, `an established socket with local port ${port} in ${PROC_TCP}`);
  const [timer, when] = row[5]!.split(':');
  return { timer: parseInt(timer!, 16), secondsLeft: parseInt(when!, 16) / TICKS_PER_SECOND };
}

/** Sends one request through a gateway with `keep_alive` and returns the proxy's local port of the upstream connection. */
async function upstreamConnectionTimer(keepAlive: string) {
  let proxyPort = 0;
  const upstream = http.createServer((req, res) => {
    proxyPort = req.socket.remotePort!;
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const gw = await startTestGateway({ proxy: { client_transport: { keep_alive: keepAlive } } });
  try {
    await gw.put('service', { name: 's', urls: [`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`] });
    await gw.put('route', { name: 'r', paths: ['/*'], methods: ['GET'], service: 's' });
    assert.equal((await gw.proxy('/x')).status, 200);
    // the connection stays open, idle, in the proxy's pool
    return await socketTimer(proxyPort);
  } finally {
    await gw.close();
    await new Promise((r) => upstream.close(r));
  }
}

const skip = !procReadable ? `${PROC_TCP} is not readable here (not Linux)` : onBun ? BUN_LIMITS.tcpKeepAlive : false;
describe('proxy.client_transport.keep_alive', () => {
  it('7s: the idle upstream connection has its keep-alive timer set to fire within 7 s', { skip }, async () => {
    const t = await upstreamConnectionTimer('7s');
    assert.equal(t.timer, 2, 'keep-alive timer');
    assert.ok(t.secondsLeft > 0 && t.secondsLeft <= 7, `fires in ${t.secondsLeft} s`);
  });

  it('45s: the first probe comes later than with 7s', { skip }, async () => {
    const t = await upstreamConnectionTimer('45s');
    assert.equal(t.timer, 2, 'keep-alive timer');
    assert.ok(t.secondsLeft > 30 && t.secondsLeft <= 45, `fires in ${t.secondsLeft} s`);
  });
});

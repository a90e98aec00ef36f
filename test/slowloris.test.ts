/**
 * slowhttptest (Debian package) in slowloris mode against the proxy: 200 connections that send
 * their heads a line at a time. The listener's header deadline closes them all before the attack
 * ends, and a normal client's requests keep succeeding meanwhile.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runtimeName } from '../src/platform/runtime.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { request } from './support/http.js';
import { tempDir } from './support/server-process.js';

const SLOWHTTPTEST = ['/usr/bin/slowhttptest', '/usr/local/bin/slowhttptest'].find((p) => existsSync(p)) ?? null;

describe(`slowloris attack (${runtimeName})`, { skip: SLOWHTTPTEST === null ? 'slowhttptest is not installed (Debian package slowhttptest)' : false }, () => {
  let upstream: http.Server;
  let gw: TestGateway;

  before(async () => {
    upstream = http.createServer((req, res) => {
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    gw = await startTestGateway({ proxy: { read_header_timeout: '2s' } });
    await gw.put('service', { name: 'up', urls: [`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`] });
    await gw.put('route', { name: 'all', paths: ['/*'], methods: ['*'], service: 'up' });
  });
  after(async () => {
    await gw?.close();
    await new Promise((r) => upstream?.close(r));
  });

  it('200 slow-header connections are all closed by the gateway before the attack ends; normal requests succeed meanwhile', { timeout: 90_000 }, async () => {
    const dir = tempDir('dgate-slowloris-');
    // proxy.read_header_timeout (2 s here): on Bun it puts the plain port on Bun's node:http (bun_listener: auto)
    const seconds = 15;
    const attack = spawn(SLOWHTTPTEST!, ['-H', '-c', '200', '-r', '200', '-i', '1', '-l', String(seconds), '-p', '3', '-g', '-o', join(dir, 'report'), '-u', `${gw.proxyUrl}/attack`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    attack.stdout.on('data', (d) => (out += d));
    attack.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => attack.on('exit', (code) => r(code)));
    let running = true;
    void exited.then(() => (running = false));

    const statuses: number[] = [];
    while (running) {
      const res = await request(`${gw.proxyUrl}/normal`, { headersTimeout: 5000 });
      await res.body.dump();
      statuses.push(res.statusCode);
      await new Promise((r) => setTimeout(r, 100));
    }
    const code = await exited;
    const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
    assert.equal(code, 0, plain.slice(-500));
    // slowhttptest ends early when the server closed every connection
    assert.match(plain, /Exit status: No open connections left/, plain.slice(-500));
    const rows = readFileSync(join(dir, 'report.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    const maxConnected = Math.max(...rows.map((r) => r[3]));
    assert.ok(maxConnected >= 150, `the attack held only ${maxConnected} connections at once`);
    assert.ok(rows.length - 1 < seconds, `the attack lasted its full ${seconds} s`);
    assert.ok(statuses.length >= 5, `only ${statuses.length} normal requests ran during the attack`);
    assert.deepEqual([...new Set(statuses)], [200]);
  });
});

/**
 * Metric labels stay bounded whatever clients send: a flood of random paths, hosts and methods,
 * and a module whose fetchUpstream builds upstream URLs from the request, leave the number of
 * series as it was (in process, proxy.workers: 0: the upstream origin cap is per process).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ORIGINS_PER_SERVICE } from '../src/observability/metrics/labels.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { request } from './support/http.js';
import { parsePrometheus, samples, type Sample } from './support/prometheus.js';

const EXTRA_METHODS = ['PROPFIND', 'PURGE', 'LOCK', 'UNLOCK', 'MKCOL', 'SEARCH', 'REPORT'];
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('metric label bounds', () => {
  let gw: TestGateway;
  let upstream: Server;
  let port: number;

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Length': '2' }).end('ok');
    });
    await new Promise<void>((r) => upstream.listen(0, '0.0.0.0', r));
    port = (upstream.address() as AddressInfo).port;
    gw = await startTestGateway();
    await gw.put('service', { name: 'up', urls: [`http://127.0.0.1:${port}`] });
    await gw.put('route', { name: 'any', paths: ['/any/*'], methods: ['*'], service: 'up' });
    // 127.0.0.0/8 is all loopback: every x-n value is a distinct origin that answers
    await gw.put('module', { name: 'dyn', payload: b64(`export function fetchUpstream(ctx) { return 'http://127.0.0.' + ctx.request().headers.get('x-n') + ':${port}'; }`) });
    await gw.put('route', { name: 'dyn', paths: ['/dyn'], methods: ['GET'], service: 'up', modules: ['dyn'] });
  });

  after(async () => {
    await gw?.close();
    await new Promise((r) => upstream?.close(r));
  });

  async function metrics(): Promise<Sample[]> {
    const res = await request(`${gw.adminUrl}/metrics`);
    return parsePrometheus(await res.body.text()).filter((s) => s.name.startsWith('dgate_'));
  }

  async function flood(origins: number[]): Promise<void> {
    for (const n of origins) {
      const rand = randomUUID();
      await gw.proxy(`/${rand}?q=${rand}`, { host: `${rand}.example.com` });
      // methods outside the standard ones (node:http's parser refuses made-up ones before the proxy sees them)
      assert.equal((await gw.proxy(`/any/${rand}`, { method: EXTRA_METHODS[n % EXTRA_METHODS.length], host: `h-${rand}` })).status, 200);
      assert.equal((await gw.proxy('/dyn', { headers: { 'x-n': String(n) } })).status, 200);
    }
  }

  const series = (m: Sample[]) => new Set(m.map((s) => `${s.name}${JSON.stringify(s.labels)}`));

  it('keeps the series count fixed under a flood of random paths, hosts, methods and upstream origins', async () => {
    await flood(Array.from({ length: 40 }, (_, i) => i + 2));
    const before = await metrics();
    const origins = new Set(samples(before, 'dgate_upstream_duration_seconds_count', { service: 'up' }).map((s) => s.labels.upstream));
    assert.equal(origins.size, ORIGINS_PER_SERVICE + 1, [...origins].join(' '));
    assert.ok(origins.has('other'));
    // no label value anywhere came from the client
    for (const s of before) for (const v of Object.values(s.labels)) assert.doesNotMatch(v, /[0-9a-f]{8}-[0-9a-f]{4}|example\.com|^h-/i);
    assert.deepEqual(new Set(samples(before, 'dgate_requests_total').map((s) => s.labels.method)), new Set(['GET', 'other']));

    await flood(Array.from({ length: 40 }, (_, i) => i + 100));
    const afterFlood = await metrics();
    assert.deepEqual(series(afterFlood), series(before));
    // and they were counted
    const count = (m: Sample[]) => samples(m, 'dgate_requests_total').reduce((s, x) => s + x.value, 0);
    assert.equal(count(afterFlood) - count(before), 120);
  });
});

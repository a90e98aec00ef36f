/**
 * GET /api/v1/stats and `dgate-cli stats` on a gateway on its own, after real traffic: counts,
 * errors and percentiles per route and module, the filters, and 400s naming a bad filter.
 * disable_metrics: nothing subscribes to the request path.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { channels } from '../src/observability/channels.js';
import { cli } from './support/cli-run.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { until } from './support/until.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('GET /api/v1/stats and dgate-cli stats', () => {
  let gw: TestGateway;
  let upstream: Server;

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Length': '2' }).end('ok');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    gw = await startTestGateway({ node_id: 'solo' });
    await gw.put('namespace', { name: 'shop' });
    await gw.put('domain', { name: 'shop', namespace: 'shop', patterns: ['shop.test'] });
    await gw.put('service', { name: 'api', namespace: 'shop', urls: [`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`] });
    await gw.put('module', { name: 'tag', namespace: 'shop', payload: b64('export function requestModifier(ctx) {}') });
    await gw.put('module', { name: 'boom', namespace: 'shop', payload: b64("export function requestHandler() { throw new Error('x'); }") });
    await gw.put('route', { name: 'items', namespace: 'shop', paths: ['/items'], methods: ['GET'], service: 'api', modules: ['tag'] });
    await gw.put('route', { name: 'orders', namespace: 'shop', paths: ['/orders'], methods: ['GET'], service: 'api' });
    await gw.put('route', { name: 'broken', namespace: 'shop', paths: ['/broken'], methods: ['GET'], modules: ['boom'] });
    for (let i = 0; i < 6; i++) assert.equal((await gw.proxy('/items', { host: 'shop.test' })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await gw.proxy('/orders', { host: 'shop.test' })).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await gw.proxy('/broken', { host: 'shop.test' })).status, 500);
    await until(async () => (await gw.admin('GET', '/api/v1/stats')).body.total['1m'].requests === 11, 'the 11 requests in the stats');
  });

  after(async () => {
    await gw?.close();
    await new Promise((r) => upstream?.close(r));
  });

  it('gives counts, errors and percentiles per route and module, over 1m, 5m and 1h', async () => {
    const r = await gw.admin('GET', '/api/v1/stats');
    assert.equal(r.status, 200);
    const b = r.body;
    assert.equal(b.node, 'solo');
    assert.equal(b.scope, 'cluster');
    assert.deepEqual(b.nodes, [{ id: 'solo', address: b.nodes[0].address, answered: true, error: null }]);
    assert.deepEqual(
      b.routes.map((x: any) => [x.namespace, x.route, x.service, x.windows['1m'].requests, x.windows['5m'].requests, x.windows['1h'].requests, x.windows['1m'].errors]),
      [
        ['shop', 'broken', '', 2, 2, 2, 2],
        ['shop', 'items', 'api', 6, 6, 6, 0],
        ['shop', 'orders', 'api', 3, 3, 3, 0],
      ],
    );
    for (const x of b.routes) {
      const w = x.windows['1m'];
      assert.ok(w.p50 > 0 && w.p50 <= w.p95 && w.p95 <= w.p99, JSON.stringify(w));
    }
    assert.deepEqual(b.total['1h'].requests, 11);
    assert.deepEqual(b.total['1h'].errors, 2);
    assert.deepEqual(
      b.modules.map((m: any) => [m.namespace, m.route, m.module, m.windows['1m'].requests, m.windows['1m'].errors]),
      [
        ['shop', 'broken', 'boom', 2, 2],
        ['shop', 'items', 'tag', 6, 0],
      ],
    );
  });

  it('filters by namespace, route, service and module', async () => {
    const rows = async (q: string) => {
      const r = await gw.admin('GET', `/api/v1/stats?${q}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return [r.body.routes.map((x: any) => x.route), r.body.modules.map((x: any) => x.module), r.body.total['1m'].requests, r.body.filters];
    };
    assert.deepEqual(await rows('namespace=shop&service=api'), [['items', 'orders'], ['tag'], 9, { namespace: 'shop', service: 'api' }]);
    assert.deepEqual(await rows('route=orders'), [['orders'], [], 3, { route: 'orders' }]);
    assert.deepEqual(await rows('module=boom'), [['broken'], ['boom'], 2, { module: 'boom' }]);
    assert.deepEqual(await rows('namespace=default'), [[], [], 0, { namespace: 'default' }]);
    assert.deepEqual((await rows('scope=node'))[2], 11);
  });

  it('refuses a bad filter with 400 naming it', async () => {
    for (const [q, field] of [
      ['route=a%2Fb', 'route'],
      ['namespace=has%20space', 'namespace'],
      ['service=' + 'x'.repeat(129), 'service'],
      ['module=', 'module'],
      ['scope=everywhere', 'scope'],
      ['format=xml', 'format'],
      ['window=1m', 'window'],
    ] as const) {
      const r = await gw.admin('GET', `/api/v1/stats?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.code, 'DG_ERR_VALIDATION');
      assert.ok(r.body.error.startsWith(`${field}: `), `${q}: ${r.body.error}`);
    }
  });

  it('dgate-cli stats prints a table, or the JSON, with the filters as flags', async () => {
    const json = await cli(['stats', '--service', 'api', '--namespace', 'shop'], { admin: gw.adminUrl });
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(json.json().routes.map((x: any) => x.route), ['items', 'orders']);

    const table = await cli(['stats', '--namespace', 'shop'], { admin: gw.adminUrl, isTTY: true });
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'cluster stats from solo');
    assert.match(lines[1]!, /^NAMESPACE +ROUTE +SERVICE +REQ 1m +ERR 1m +P50\/P95\/P99 ms 1m +REQ 5m +ERR 5m +P50\/P95\/P99 ms 5m +REQ 1h +ERR 1h +P50\/P95\/P99 ms 1h$/);
    assert.match(lines[2]!, /^shop +broken +- +2 +2 +[\d.]+\/[\d.]+\/[\d.]+ +2 +2 /);
    assert.match(lines[3]!, /^shop +items +api +6 +0 /);
    assert.match(lines[4]!, /^shop +orders +api +3 +0 /);
    assert.match(lines[5]!, /^TOTAL +11 +2 /);
    assert.equal(lines[6], '');
    assert.match(lines[7]!, /^NAMESPACE +ROUTE +MODULE +REQ 1m/);
    assert.match(lines[8]!, /^shop +broken +boom +2 +2 /);
    assert.match(lines[9]!, /^shop +items +tag +6 +0 /);

    const forced = await cli(['stats', '--module', 'tag', '--node', '--table'], { admin: gw.adminUrl });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^node stats from solo\n/);
    const asJson = await cli(['stats', '--json'], { admin: gw.adminUrl, isTTY: true });
    assert.equal(JSON.parse(asJson.stdout).total['1m'].requests, 11);

    const bad = await cli(['stats', '--route', 'a/b'], { admin: gw.adminUrl });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /route: must be 1-128 characters/);
    assert.equal((await cli(['stats', '--window', '1m'], { admin: gw.adminUrl })).code, 2);
    assert.match((await cli(['stats', '--help'])).stdout, /^Usage: dgate-cli \[global flags\] stats/);
  });
});

describe('disable_metrics on a gateway on its own', () => {
  it('subscribes nothing to the request path and answers 404 on /metrics and /api/v1/stats', async () => {
    const gw = await startTestGateway({ disable_metrics: true });
    try {
      assert.equal(channels.requestEnd.hasSubscribers, false);
      assert.equal(channels.requestStart.hasSubscribers, false);
      assert.equal(channels.hook.hasSubscribers, false);
      assert.equal(channels.upstream.hasSubscribers, false);
      for (const path of ['/metrics', '/api/v1/stats']) {
        const r = await gw.admin('GET', path);
        assert.equal(r.status, 404);
        assert.equal(r.body.code, 'DG_ERR_METRICS_DISABLED');
      }
    } finally {
      await gw.close();
    }
    // and a gateway with metrics subscribes, and lets go when closed
    const on = await startTestGateway();
    assert.equal(channels.requestEnd.hasSubscribers, true);
    await on.close();
    assert.equal(channels.requestEnd.hasSubscribers, false);
  });
});

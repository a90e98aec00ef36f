/**
 * GET /metrics on a real dgate-server with two proxy workers, after real traffic: every metric
 * family is there with the counts of what was sent, whichever worker served it (the node
 * merges its workers' metrics), on the runtime the tests run on.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from './support/http.js';
import { parsePrometheus, samples, total, type Sample } from './support/prometheus.js';
import { onBun } from './support/runtime.js';
import { REFUSING_URL } from './support/refusing.js';
import { putJson, startServerProcess, stop, type ServerProcess } from './support/server-process.js';
import { until } from './support/until.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function scrape(adminUrl: string): Promise<{ status: number; contentType: string; samples: Sample[] }> {
  const res = await request(`${adminUrl}/metrics`);
  const text = await res.body.text();
  return { status: res.statusCode, contentType: String(res.headers['content-type']), samples: res.statusCode === 200 ? parsePrometheus(text) : [] };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  // a connection per request, so requests spread over the workers
  const res = await request(url, { dispatcher: new Agent({ pipelining: 0 }), headers: { connection: 'close', ...headers } });
  await res.body.dump();
  return res.statusCode;
}

describe('GET /metrics of a node with two proxy workers', () => {
  let server: ServerProcess;
  let upstream: Server;
  let up: string;
  let dead: string;

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Length': '2' }).end('ok');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    up = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    dead = REFUSING_URL;
    server = await startServerProcess({
      yaml: (p) => `log_level: error\nstorage: { type: memory }\nproxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 2 }\nadmin: { host: 127.0.0.1, port: ${p.admin} }\n`,
    });
    const a = server.adminUrl;
    assert.equal(await putJson(a, 'service', { name: 'up', urls: [up] }), 201);
    assert.equal(await putJson(a, 'service', { name: 'flaky', urls: [dead, up], retries: 2 }), 201);
    assert.equal(await putJson(a, 'route', { name: 'pass', paths: ['/pass/*'], methods: ['*'], service: 'up' }), 201);
    assert.equal(await putJson(a, 'route', { name: 'retry', paths: ['/retry'], methods: ['GET'], service: 'flaky' }), 201);
    assert.equal(await putJson(a, 'module', { name: 'mod', payload: b64('export function requestModifier(ctx) {}\nexport function responseModifier(ctx) {}') }), 201);
    assert.equal(await putJson(a, 'route', { name: 'withmod', paths: ['/mod'], methods: ['GET'], service: 'up', modules: ['mod'] }), 201);
    assert.equal(await putJson(a, 'module', { name: 'boom', payload: b64("export function requestHandler() { throw new Error('boom'); }") }), 201);
    assert.equal(await putJson(a, 'route', { name: 'fails', paths: ['/fails'], methods: ['GET'], modules: ['boom'] }), 201);
  });

  after(async () => {
    if (server !== undefined) await stop(server);
    await new Promise((r) => upstream?.close(r));
  });

  it('has every family, counted over both workers', async () => {
    const p = server.proxyUrl;
    for (let i = 0; i < 20; i++) assert.equal(await get(`${p}/pass/${i}`), 200);
    for (let i = 0; i < 3; i++) assert.equal(await get(`${p}/mod`), 200);
    for (let i = 0; i < 2; i++) assert.equal(await get(`${p}/fails`), 500);
    assert.equal(await get(`${p}/retry`), 200); // urls[0] refused, retried on urls[1]
    assert.equal(await get(`${p}/nowhere`), 404);

    let m: Sample[] = [];
    await until(async () => {
      m = (await scrape(server.adminUrl)).samples;
      return total(m, 'dgate_requests_total') === 27;
    }, 'the 27 requests in dgate_requests_total');
    const first = await scrape(server.adminUrl);
    assert.equal(first.status, 200);
    assert.match(first.contentType, /^text\/plain; version=0\.0\.4/);

    // requests, by namespace, route, service, method and status class, with their duration
    const pass = { namespace: 'default', route: 'pass', service: 'up', method: 'GET', status_class: '2xx' };
    assert.equal(total(m, 'dgate_requests_total', pass), 20);
    assert.equal(total(m, 'dgate_request_duration_seconds_count', pass), 20);
    assert.equal(total(m, 'dgate_request_duration_seconds_bucket', { ...pass, le: '+Inf' }), 20);
    assert.ok(total(m, 'dgate_request_duration_seconds_sum', pass) > 0);
    assert.equal(total(m, 'dgate_requests_total', { route: 'fails', service: '', status_class: '5xx' }), 2);
    assert.equal(total(m, 'dgate_requests_total', { namespace: 'default', route: '', status_class: '4xx' }), 1);
    // module hooks
    assert.equal(total(m, 'dgate_module_hook_duration_seconds_count', { namespace: 'default', module: 'mod', hook: 'requestModifier' }), 3);
    assert.equal(total(m, 'dgate_module_hook_duration_seconds_count', { namespace: 'default', module: 'mod', hook: 'responseModifier' }), 3);
    assert.equal(total(m, 'dgate_module_hook_errors_total', { module: 'mod' }), 0);
    assert.equal(total(m, 'dgate_module_hook_errors_total', { namespace: 'default', module: 'boom', hook: 'requestHandler' }), 2);
    // upstreams: attempts, failures by code, retries
    assert.equal(total(m, 'dgate_upstream_duration_seconds_count', { service: 'up', upstream: up }), 23);
    assert.equal(total(m, 'dgate_upstream_errors_total', { service: 'flaky', upstream: dead, error: 'ECONNREFUSED' }), 1);
    assert.equal(total(m, 'dgate_upstream_retries_total', { service: 'flaky', upstream: up }), 1);
    assert.equal(total(m, 'dgate_upstream_duration_seconds_count', { service: 'flaky' }), 2);
    // gauges
    assert.equal(total(m, 'dgate_requests_in_flight'), 0);
    const rev = (await (await request(`${server.adminUrl}/changelog`)).body.json()) as { rev: number };
    assert.equal(total(m, 'dgate_config_revision'), rev.rev);
    assert.ok(total(m, 'dgate_config_apply_seconds_count') >= 2, 'each worker applied revisions');
    // process and runtime metrics of the node's processes (the main one and both workers)
    assert.ok(total(m, 'process_cpu_seconds_total') > 0);
    assert.ok(total(m, 'nodejs_heap_size_used_bytes') > 0);
    assert.ok(samples(m, 'process_resident_memory_bytes').length === 1);
  });

  it('counts open client connections', { skip: onBun ? 'Bun.serve does not expose client connections' : false }, async () => {
    const port = Number(new URL(server.proxyUrl).port);
    const sockets = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect(port, '127.0.0.1', () => resolve(s));
            s.on('error', reject);
          }),
      ),
    );
    await until(async () => total((await scrape(server.adminUrl)).samples, 'dgate_open_connections') === 3, 'three open connections');
    for (const s of sockets) s.destroy();
    await until(async () => total((await scrape(server.adminUrl)).samples, 'dgate_open_connections') === 0, 'no open connection');
  });
});

describe('disable_metrics on a node with proxy workers', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({
      yaml: (p) => `log_level: error\ndisable_metrics: true\nstorage: { type: memory }\nproxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 1 }\nadmin: { host: 127.0.0.1, port: ${p.admin} }\n`,
    });
  });
  after(async () => {
    if (server !== undefined) await stop(server);
  });

  it('answers 404 on /metrics and /api/v1/stats, naming the setting', async () => {
    for (const path of ['/metrics', '/api/v1/stats']) {
      const res = await request(server.adminUrl + path);
      const body = (await res.body.json()) as { code: string; error: string };
      assert.equal(res.statusCode, 404);
      assert.equal(body.code, 'DG_ERR_METRICS_DISABLED');
      assert.match(body.error, /disable_metrics: true/);
    }
  });
});

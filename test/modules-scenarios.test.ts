/**
 * DGate's functional module scenarios (§9), driven through the admin API and the proxy, with
 * local upstreams standing in for the internet services the original scripts called.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { BUN_LIMITS, unlessBun } from './support/runtime.js';
import { call, closeGateway, header, scope, sendJson, startUpstream, type Upstream } from './support/modules-harness.js';
import { REFUSING_URL } from './support/refusing.js';

let gw: TestGateway;
let echo: EchoServer;
const upstreams: Upstream[] = [];

before(async () => {
  echo = await startEchoServer();
  gw = await startTestGateway();
});
after(async () => {
  await closeGateway(gw);
  await echo.close();
  for (const u of upstreams) await u.close();
});

async function upstream(handler?: Parameters<typeof startUpstream>[0]): Promise<Upstream> {
  const u = await startUpstream(handler);
  upstreams.push(u);
  return u;
}

describe('module scenarios', { timeout: 60_000 }, () => {
  it('change checker: a re-PUT module answers from the very next request', async () => {
    const s = await scope(gw, 'change-checker');
    const version = (mod: string) => `export function requestHandler(ctx: any) {\n  ctx.response().status(201).json({ mod: ${JSON.stringify(mod)} });\n}\n`;
    await s.module('cc', version('module1'));
    await s.route({ name: 'cc', paths: ['/', '/{id}'], methods: ['GET', 'POST'], modules: ['cc'] });

    for (const path of ['/', '/abc']) {
      const r = await s.call(path);
      assert.equal(r.status, 201, path);
      assert.deepEqual(r.json(), { mod: 'module1' }, path);
    }
    await s.module('cc', version('module2'));
    const next = await s.call('/');
    assert.equal(next.status, 201);
    assert.deepEqual(next.json(), { mod: 'module2' });
    const post = await s.call('/xyz', { method: 'POST' });
    assert.deepEqual(post.json(), { mod: 'module2' });
  });

  it('IP-hash load balancer: fetchUpstream spreads clients over the service URLs by sha1, deterministically', async () => {
    const s = await scope(gw, 'iphash');
    await s.service('lb', [`${echo.url}/a`, `${echo.url}/b`, `${echo.url}/c`]);
    await s.module(
      'iphash',
      `import { createHash } from 'dgate/crypto';

export function fetchUpstream(ctx: any): string {
  const req = ctx.request();
  const client = req.headers.get('X-Forwarded-For') ?? req.remoteAddress;
  const hash = createHash('sha1').update(client).digest('hex') as string;
  const urls = ctx.service().urls as string[];
  const index = parseInt(hash.slice(0, 4), 16) % urls.length;
  ctx.response().headers.set('X-Hash', hash);
  ctx.response().headers.set('X-Remote-Address', req.remoteAddress);
  return urls[index];
}
`,
    );
    await s.route({ name: 'lb', paths: ['/test-lb'], methods: ['GET'], service: 'lb', modules: ['iphash'], stripPath: true, preserveHost: true });

    const expected = (client: string) => {
      const hash = createHash('sha1').update(client).digest('hex');
      return { hash, path: ['/a', '/b', '/c'][parseInt(hash.slice(0, 4), 16) % 3] };
    };

    const direct = await s.call('/test-lb');
    assert.equal(direct.status, 200);
    assert.equal(header(direct, 'x-remote-address'), '127.0.0.1');
    assert.equal(header(direct, 'x-hash'), expected('127.0.0.1').hash);
    assert.equal(direct.json().data.path, expected('127.0.0.1').path);
    assert.equal(direct.json().data.host, s.host, 'preserveHost sends the client Host');

    const forwarded = await s.call('/test-lb', { headers: { 'X-Forwarded-For': '192.168.0.1' } });
    assert.equal(forwarded.status, 200);
    assert.equal(forwarded.json().data.path, expected('192.168.0.1').path);
    assert.notEqual(forwarded.json().data.path, direct.json().data.path, 'the two clients land on different URLs');

    // Every client lands where the hash says, every time.
    const seen = new Set<string>();
    for (let i = 1; i <= 12; i++) {
      const client = `10.0.0.${i}`;
      for (let round = 0; round < 2; round++) {
        const r = await s.call('/test-lb', { headers: { 'X-Forwarded-For': client } });
        assert.equal(r.json().data.path, expected(client).path, `${client} round ${round}`);
        seen.add(r.json().data.path);
      }
    }
    assert.deepEqual([...seen].sort(), ['/a', '/b', '/c'], 'all three URLs are used');
  });

  it('modify request: requestModifier adds X-Geo-* headers from a fetched, cached lookup', async () => {
    const geo = await upstream((hit, res) => {
      const ip = hit.url.replace('/json/', '');
      sendJson(res, 200, { status: 'success', country: ip === '1.1.1.1' ? 'Australia' : 'Elsewhere', countryCode: 'AU', regionName: 'Queensland', city: 'Brisbane', query: ip });
    });
    const s = await scope(gw, 'modify-request');
    await s.service('echo', [echo.url]);
    await s.module(
      'geo',
      `import { getCache, setCache } from 'dgate/storage';

export async function requestModifier(ctx: any) {
  const req = ctx.request();
  const ip = req.headers.get('X-Forwarded-For') ?? req.remoteAddress;
  let geo: any = getCache('geo:' + ip);
  if (geo === null) {
    const res = await fetch(${JSON.stringify(geo.url)} + '/json/' + ip);
    geo = await res.json();
    setCache('geo:' + ip, geo, { ttl: 60 });
  }
  req.headers.set('X-Geo-Country', geo.country);
  req.headers.set('X-Geo-Country-Code', geo.countryCode);
  req.headers.set('X-Geo-Region', geo.regionName);
  req.headers.set('X-Geo-City', geo.city);
}
`,
    );
    await s.route({ name: 'mr', paths: ['/modify_request_test'], methods: ['GET'], service: 'echo', modules: ['geo'] });

    const r = await s.call('/modify_request_test', { headers: { 'X-Forwarded-For': '1.1.1.1' } });
    assert.equal(r.status, 200);
    const seen = r.json().data.req_headers;
    assert.deepEqual(seen['X-Geo-Country'], ['Australia']);
    assert.deepEqual(seen['X-Geo-Country-Code'], ['AU']);
    assert.deepEqual(seen['X-Geo-Region'], ['Queensland']);
    assert.deepEqual(seen['X-Geo-City'], ['Brisbane']);
    assert.equal(geo.hits.length, 1);

    const again = await s.call('/modify_request_test', { headers: { 'X-Forwarded-For': '1.1.1.1' } });
    assert.deepEqual(again.json().data.req_headers['X-Geo-Country'], ['Australia']);
    assert.equal(geo.hits.length, 1, 'the second lookup comes from the cache');

    const other = await s.call('/modify_request_test', { headers: { 'X-Forwarded-For': '8.8.8.8' } });
    assert.deepEqual(other.json().data.req_headers['X-Geo-Country'], ['Elsewhere']);
    assert.equal(geo.hits.length, 2);
  });

  it('modify response: responseModifier adds a fetched uuid to the upstream JSON; errorHandler answers 500 JSON when the upstream is down', async () => {
    const uuid = '3f8e1c2a-9b7d-4e6f-8a5b-1c2d3e4f5a6b';
    const uuids = await upstream((_hit, res) => sendJson(res, 200, { uuid }));
    const s = await scope(gw, 'modify-response');
    await s.service('echo', [echo.url]);
    await s.service('down', [REFUSING_URL]);
    await s.module(
      'addid',
      `export async function responseModifier(ctx: any) {
  const res = await fetch(${JSON.stringify(uuids.url)} + '/uuid');
  const { uuid } = await res.json();
  const upstream = ctx.upstream();
  const results: any = await upstream.readJson();
  results.data.uuid = uuid;
  upstream.status(200).writeJson(results);
}

export function errorHandler(ctx: any, err: any) {
  ctx.response().status(500).json({ error: err?.message ?? String(err) });
}
`,
    );
    await s.route({ name: 'ok', paths: ['/modify_response_test'], methods: ['GET'], service: 'echo', modules: ['addid'] });
    await s.route({ name: 'down', paths: ['/down'], methods: ['GET'], service: 'down', modules: ['addid'] });

    const r = await s.call('/modify_response_test?status=404');
    assert.equal(r.status, 200, 'the modifier sets the status');
    const body = r.json();
    assert.equal(body.data.uuid, uuid);
    assert.equal(body.data.path, '/modify_response_test?status=404');
    assert.equal(body.status_code, 404, 'the rest of the upstream body is kept');
    assert.equal(header(r, 'content-length'), String(Buffer.byteLength(r.text)));
    assert.match(header(r, 'content-type') ?? '', /application\/json/);

    const down = await s.call('/down');
    assert.equal(down.status, 500);
    assert.match(header(down, 'content-type') ?? '', /application\/json/);
    assert.match(down.json().error, /ECONNREFUSED|connect/i);
  });

  it('merge responses: a no-service requestHandler merges three fetches with Promise.allSettled', async () => {
    const one = await upstream((_hit, res) => sendJson(res, 200, { alpha: 1 }));
    const two = await upstream((_hit, res) => sendJson(res, 200, { beta: [2] }));
    const three = REFUSING_URL;
    const s = await scope(gw, 'merge');
    await s.module(
      'merge',
      `export async function requestHandler(ctx: any) {
  const urls = ${JSON.stringify([`${one.url}/one`, `${two.url}/two`, `${three}/three`])};
  const results = await Promise.allSettled(urls.map(async (u: string) => (await fetch(u)).json()));
  const merged: Record<string, unknown> = {};
  for (const r of results) if (r.status === 'fulfilled') Object.assign(merged, r.value);
  merged.failed = results.filter((r) => r.status === 'rejected').length;
  ctx.response().status(200).json(merged);
}
`,
    );
    await s.route({ name: 'merge', paths: ['/test', '/hello'], methods: ['GET'], modules: ['merge'] });
    for (const path of ['/hello', '/test']) {
      const r = await s.call(path);
      assert.equal(r.status, 200, path);
      assert.deepEqual(r.json(), { alpha: 1, beta: [2], failed: 1 }, path);
    }
  });

  it('multi-module: a requestModifier re-exported by another module of the route runs once; responseModifier rewrites the upstream body', unlessBun(BUN_LIMITS.getWithBody), async () => {
    const s = await scope(gw, 'multimod');
    await s.service('three', [`${echo.url}/1`, `${echo.url}/2`, `${echo.url}/3`]);
    await s.module(
      'multimod2',
      `export function requestModifier(ctx: any) {
  const req = ctx.request();
  req.headers.add('X-Multimod-Calls', 'requestModifier');
  req.writeJson({ a: 1 });
}

export async function responseModifier(ctx: any) {
  const up = ctx.upstream();
  const body = await up.readJson();
  up.writeJson({
    upstream_body: body,
    upstream_headers: up.headers,
    upstream_status: up.statusCode,
    upstream_statusText: up.statusText,
  });
}
`,
    );
    await s.module(
      'multimod1',
      `export { requestModifier } from './multimod2';
import { responseModifier as resMod } from './multimod2';

// Not exported: not one of the route's functions.
const responseModifier = async (ctx: any) => {
  ctx.upstream().headers.set('X-Wrapped', 'yes');
  return resMod(ctx);
};
`,
    );
    await s.route({ name: 'mm', paths: ['/', '/multimod-test'], methods: ['GET'], service: 'three', modules: ['multimod1', 'multimod2'] });

    const paths = new Set<string>();
    for (const path of ['/', '/multimod-test', '/', '/multimod-test']) {
      const r = await s.call(path);
      assert.equal(r.status, 200, path);
      const body = r.json();
      assert.equal(body.upstream_status, 200);
      assert.equal(body.upstream_statusText, 'OK');
      assert.equal(body.upstream_body.data.body, '{"a":1}', 'the upstream got the JSON body the requestModifier wrote');
      assert.deepEqual(body.upstream_body.data.req_headers['X-Multimod-Calls'], ['requestModifier'], 'the shared requestModifier ran once');
      assert.ok(body.upstream_headers['content-type'] ?? body.upstream_headers['Content-Type'], JSON.stringify(body.upstream_headers));
      assert.equal(header(r, 'x-wrapped'), undefined, 'an un-exported function is not a hook');
      paths.add(body.upstream_body.data.path.split('/')[1]);
    }
    assert.ok(paths.size >= 2, `requests are spread over the service URLs: ${[...paths]}`);
  });

  it('URL shortener: POST stores a document under a sha1-derived id, GET redirects to it; schema violations are refused', async () => {
    const s = await scope(gw, 'shortener');
    await gw.put('collection', { name: 'short_link', namespace: s.ns, schema: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] } });
    await s.module(
      'shortener',
      `import { createHash } from 'dgate/crypto';
import { addDocument, getDocument } from 'dgate/state';

export async function requestHandler(ctx: any) {
  const req = ctx.request();
  const res = ctx.response();
  if (req.method === 'GET') {
    const id = ctx.pathParam('id');
    const doc: any = id === '' ? null : await getDocument(id, 'short_link');
    if (doc === null) return res.status(404).json({ error: 'not found' });
    return res.redirect(doc.data.url);
  }
  if (ctx.query().has('bad')) {
    try {
      await addDocument({ id: 'bad-doc', collection: 'short_link', data: { link: 42 } });
      return res.status(201).json({ id: 'bad-doc' });
    } catch (err: any) {
      return res.status(400).json({ error: err.message, code: err.code });
    }
  }
  const url = ctx.query().get('url');
  if (!url) return res.status(400).json({ error: 'url is required' });
  const hash = createHash('sha1').update(url).digest('base64rawurl') as string;
  const id = hash.slice(-8);
  await addDocument({ id, collection: 'short_link', data: { url } });
  res.status(201).json({ id });
}
`,
    );
    await s.route({ name: 'short', paths: ['/', '/{id}'], methods: ['GET', 'POST'], modules: ['shortener'] });

    const target = 'https://example.com/some/long/path?with=query';
    const created = await s.call(`/?url=${encodeURIComponent(target)}`, { method: 'POST' });
    assert.equal(created.status, 201, created.text);
    const id = created.json().id;
    assert.equal(id, createHash('sha1').update(target).digest('base64url').slice(-8));

    const stored = await gw.admin('GET', `/api/v1/document/${encodeURIComponent(id)}?namespace=${s.ns}&collection=short_link`);
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    assert.equal(stored.body.data.data.url, target);

    const follow = await s.call(`/${id}`);
    assert.equal(follow.status, 307);
    assert.equal(header(follow, 'location'), target);

    const missing = await s.call('/nosuchid');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), { error: 'not found' });

    const bad = await s.call('/?bad=1', { method: 'POST' });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json().code, 'DG_ERR_DOCUMENT_INVALID');
    assert.match(bad.json().error, /url/);
    const notStored = await gw.admin('GET', `/api/v1/document/bad-doc?namespace=${s.ns}&collection=short_link`);
    assert.equal(notStored.status, 404);
  });

  it('performance prep: service, module-only and blank routes on a priority domain', async () => {
    await gw.put('namespace', { name: 'performance' });
    await gw.put('domain', { name: 'performance', namespace: 'performance', patterns: ['performance.example.com'], priority: 100 });
    await gw.put('service', { name: 'perf', namespace: 'performance', urls: [echo.url], retries: 3, retryTimeout: '50ms' });
    const payload = `import { sleep } from 'dgate';

export function fetchUpstream(ctx: any) {
  console.debug('fetchUpstream', ctx.id);
  return ctx.service().urls[0];
}
export function requestModifier(ctx: any) {
  console.debug('requestModifier', ctx.id);
}
export function responseModifier(ctx: any) {
  console.debug('responseModifier', ctx.id);
}
export function errorHandler(ctx: any, err: any) {
  console.debug('errorHandler', ctx.id, err);
}
export async function requestHandler(ctx: any) {
  console.debug('requestHandler', ctx.id);
  const wait = ctx.query().get('wait');
  if (wait) await sleep(wait);
}
`;
    await gw.put('module', { name: 'perf', namespace: 'performance', payload: Buffer.from(payload).toString('base64') });
    await gw.put('route', { name: 'svctest', namespace: 'performance', paths: ['/svctest'], methods: ['GET'], service: 'perf', stripPath: true });
    await gw.put('route', { name: 'modtest', namespace: 'performance', paths: ['/modtest', '/modview'], methods: ['GET'], modules: ['perf'] });
    await gw.put('route', { name: 'blank', namespace: 'performance', paths: ['/blank'], methods: ['GET'] });
    const host = 'performance.example.com';
    const get = (path: string) => call(gw, path, { host });

    const svc = await get('/svctest');
    assert.equal(svc.status, 200);
    assert.equal(svc.json().data.path, '/');

    for (const path of ['/modtest', '/modview']) {
      const r = await get(path);
      assert.equal(r.status, 204, path);
      assert.equal(r.text, '');
    }
    const waited = await get('/modtest?wait=30ms');
    assert.equal(waited.status, 204);
    assert.ok(waited.ms >= 28, `slept ${waited.ms} ms`);

    assert.equal((await get('/blank')).status, 501);

    // A burst like the load test's: all succeed (how long it takes is measured by bench/, not here).
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => get(i % 2 === 0 ? '/modtest?wait=100ms' : '/svctest')));
    assert.deepEqual(burst.map((r) => r.status < 400), Array(40).fill(true));
  });
});

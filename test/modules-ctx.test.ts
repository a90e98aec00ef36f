/**
 * The `ctx` object module functions receive: request, response, upstream answer, path params,
 * query, route/service/namespace descriptions and request-scoped values, each observed through
 * the proxy (what the client gets, and what the echo upstream received).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { closeGateway, header, scope, sendJson, startUpstream, type Scope, type Upstream } from './support/modules-harness.js';

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

/** A namespace with one module on one route; `service` routes to the echo server. */
async function withModule(ns: string, source: string, route: { paths?: string[]; service?: boolean; stripPath?: boolean; methods?: string[] } = {}): Promise<Scope> {
  const s = await scope(gw, ns);
  if (route.service) await s.service('echo', [echo.url]);
  await s.module('m', source);
  await s.route({
    name: 'r',
    paths: route.paths ?? ['/*'],
    methods: route.methods ?? ['*'],
    modules: ['m'],
    ...(route.service ? { service: 'echo' } : {}),
    ...(route.stripPath ? { stripPath: true } : {}),
  });
  return s;
}

describe('ctx', { timeout: 60_000 }, () => {
  it('ctx.id is a string shared by the functions of one request and different for the next request', async () => {
    const s = await withModule(
      'ctx-id',
      `export function requestModifier(ctx: any) { ctx.request().headers.set('X-Ctx-Id', ctx.id); }
export function responseModifier(ctx: any) { ctx.upstream().headers.set('X-Ctx-Id-Res', ctx.id); ctx.upstream().headers.set('X-Ctx-Id-Type', typeof ctx.id); }
`,
      { service: true },
    );
    const a = await s.call('/x');
    const b = await s.call('/x');
    assert.equal(a.status, 200);
    assert.equal(header(a, 'x-ctx-id-type'), 'string');
    const idA = header(a, 'x-ctx-id-res')!;
    assert.ok(idA.length > 0);
    assert.deepEqual(a.json().data.req_headers['X-Ctx-Id'], [idA], 'requestModifier and responseModifier see the same id');
    assert.notEqual(header(b, 'x-ctx-id-res'), idA);
  });

  it('request() shows method, path, host, remoteAddress, proto, url and contentLength', async () => {
    const s = await withModule(
      'ctx-request-props',
      `export function requestHandler(ctx: any) {
  const r = ctx.request();
  ctx.response().json({ method: r.method, path: r.path, host: r.host, remoteAddress: r.remoteAddress, proto: r.proto, url: r.url, contentLength: r.contentLength });
}
`,
    );
    const r = await s.call('/some/path?x=1', { method: 'POST', body: 'hello', host: `${s.host}:8443` });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), {
      method: 'POST',
      path: '/some/path',
      host: `${s.host}:8443`,
      remoteAddress: '127.0.0.1',
      proto: 'HTTP/1.1',
      url: '/some/path?x=1',
      contentLength: 5,
    });
  });

  it('request().headers: get is case-insensitive, values/has read, set/add/del change what the upstream receives', async () => {
    const s = await withModule(
      'ctx-request-headers',
      `export function requestModifier(ctx: any) {
  const h = ctx.request().headers;
  const seen = {
    get: h.get('x-client'),
    getUpper: h.get('X-CLIENT'),
    values: h.values('x-multi'),
    has: h.has('X-Remove'),
    hasNot: h.has('x-absent'),
    getMissing: h.get('x-absent'),
  };
  h.set('X-Client', 'replaced');
  h.add('X-Multi', 'three');
  h.add('X-Added', 1);
  h.del('x-remove');
  h.set('X-Seen', JSON.stringify(seen));
}
`,
      { service: true },
    );
    const r = await s.call('/h', { headers: { 'X-Client': 'original', 'X-Multi': ['one', 'two'], 'X-Remove': 'gone' } });
    assert.equal(r.status, 200);
    const got = r.json().data.req_headers;
    const seen = JSON.parse(got['X-Seen'][0]);
    // Bun's listener hands repeated header lines over joined by ", " (one value): the same list
    seen.values = (seen.values as string[]).flatMap((v) => v.split(', '));
    assert.deepEqual(seen, { get: 'original', getUpper: 'original', values: ['one', 'two'], has: true, hasNot: false, getMissing: null });
    assert.deepEqual(got['X-Client'], ['replaced']);
    const multi = Object.entries(got).find(([k]) => k.toLowerCase() === 'x-multi')?.[1] as string[];
    // separate header lines on Node; one line with the values joined by ", " on Bun (fetch): the same list (RFC 9110 §5.3)
    assert.deepEqual(multi.flatMap((v) => v.split(', ')), ['one', 'two', 'three']);
    assert.deepEqual(got['X-Added'], ['1'], 'non-string values are stringified');
    assert.equal(Object.keys(got).find((k) => k.toLowerCase() === 'x-remove'), undefined);
  });

  it('request().query: get/has/set/add/del/encode, and the upstream receives the changed query', async () => {
    const s = await withModule(
      'ctx-request-query',
      `export function requestModifier(ctx: any) {
  const q = ctx.request().query;
  const seen = { a: q.get('a'), has: q.has('c'), hasNot: q.has('zz'), missing: q.get('zz'), before: q.encode() };
  q.set('a', 'changed');
  q.add('b', '2');
  q.del('c');
  q.set('space', 'x y');
  ctx.request().headers.set('X-Seen', JSON.stringify({ ...seen, after: q.encode() }));
}
`,
      { service: true },
    );
    const r = await s.call('/q?a=1&b=1&c=3');
    assert.equal(r.status, 200);
    const data = r.json().data;
    assert.deepEqual(JSON.parse(data.req_headers['X-Seen'][0]), {
      a: '1',
      has: true,
      hasNot: false,
      missing: null,
      before: 'a=1&b=1&c=3',
      after: 'a=changed&b=1&b=2&space=x+y',
    });
    assert.equal(data.path, '/q?a=changed&b=1&b=2&space=x+y');
  });

  it('request() body: a body module code does not read streams to the upstream unchanged', async () => {
    const s = await withModule('ctx-request-stream', `export function requestModifier(ctx: any) { ctx.request().headers.set('X-Touched', 'yes'); }\n`, { service: true });
    const body = 'z'.repeat(3 * 1024 * 1024);
    const r = await s.call('/upload', { method: 'POST', body });
    assert.equal(r.status, 200);
    assert.equal(r.json().data.body.length, body.length);
    assert.deepEqual(r.json().data.req_headers['X-Touched'], ['yes']);
  });

  it('request(): a method changed by a requestModifier is what the upstream receives', async () => {
    const s = await withModule('ctx-request-method', `export function requestModifier(ctx: any) { ctx.request().method = 'PUT'; }\n`, { service: true });
    const r = await s.call('/m');
    assert.equal(r.json().data.method, 'PUT');
  });

  it('request() body: readBody/readText/readJson in a requestHandler', async () => {
    const s = await withModule(
      'ctx-request-read',
      `export async function requestHandler(ctx: any) {
  const r = ctx.request();
  const bytes = await r.readBody();
  const text = await r.readText();
  const json = await r.readJson();
  ctx.response().json({ byteLength: bytes.byteLength, isArrayBuffer: Object.prototype.toString.call(bytes), text, json });
}
`,
    );
    const body = JSON.stringify({ name: 'zoë', n: [1, 2] });
    const r = await s.call('/read', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { byteLength: Buffer.byteLength(body), isArrayBuffer: '[object ArrayBuffer]', text: body, json: { name: 'zoë', n: [1, 2] } });
  });

  it('request() body: reading it in a requestModifier still sends it upstream; writeBody/writeJson replace it', async () => {
    const s = await scope(gw, 'ctx-request-write');
    await s.service('echo', [echo.url]);
    await s.module(
      'm',
      `export async function requestModifier(ctx: any) {
  const r = ctx.request();
  const mode = r.query.get('mode');
  if (mode === 'read') {
    const json: any = await r.readJson();
    r.headers.set('X-Read-Name', json.name);
  } else if (mode === 'text') {
    r.writeBody('replaced body');
  } else if (mode === 'bytes') {
    r.writeBody(new TextEncoder().encode('bytes body'));
  } else if (mode === 'json') {
    r.writeJson({ replaced: true, original: await r.readText() });
  }
}
`,
    );
    await s.route({ name: 'r', paths: ['/*'], methods: ['*'], modules: ['m'], service: 'echo' });
    const original = JSON.stringify({ name: 'client' });

    const read = await s.call('/w?mode=read', { method: 'POST', body: original });
    assert.equal(read.json().data.body, original);
    assert.deepEqual(read.json().data.req_headers['X-Read-Name'], ['client']);

    const text = await s.call('/w?mode=text', { method: 'POST', body: original });
    assert.equal(text.json().data.body, 'replaced body');
    const cl = Object.entries(text.json().data.req_headers).find(([k]) => k.toLowerCase() === 'content-length')?.[1];
    assert.deepEqual(cl, [String(Buffer.byteLength('replaced body'))], 'Content-Length matches the new body');

    const bytes = await s.call('/w?mode=bytes', { method: 'PUT', body: original });
    assert.equal(bytes.json().data.body, 'bytes body');

    const json = await s.call('/w?mode=json', { method: 'POST', body: original, headers: { 'content-type': 'text/plain' } });
    assert.deepEqual(JSON.parse(json.json().data.body), { replaced: true, original });
    const ct = Object.entries(json.json().data.req_headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
    assert.deepEqual(ct, ['application/json']);
  });

  it('response(): status and json, json appending, send, end', async () => {
    const s = await withModule(
      'ctx-response-write',
      `export function requestHandler(ctx: any) {
  const res = ctx.response();
  switch (ctx.pathParam('*')) {
    case 'json': return res.status(418).json({ teapot: true });
    case 'twice': res.json({ a: 1 }); res.json({ b: 2 }); return;
    case 'send': res.status(202).send('sent '); res.send(new TextEncoder().encode('bytes')); return;
    case 'end': res.headers.set('Content-Type', 'text/csv'); res.end('a,b'); return;
    case 'end-empty': res.status(202).end(); return;
  }
}
`,
      { paths: ['/r/*'] },
    );
    const json = await s.call('/r/json');
    assert.equal(json.status, 418);
    assert.match(header(json, 'content-type') ?? '', /^application\/json/);
    assert.deepEqual(json.json(), { teapot: true });

    const twice = await s.call('/r/twice');
    assert.equal(twice.status, 200);
    assert.equal(twice.text, '{"a":1}{"b":2}');

    const send = await s.call('/r/send');
    assert.equal(send.status, 202);
    assert.equal(send.text, 'sent bytes');

    const end = await s.call('/r/end');
    assert.equal(end.status, 200);
    assert.equal(end.text, 'a,b');
    assert.equal(header(end, 'content-type'), 'text/csv');
    assert.equal(header(end, 'content-length'), '3');

    const empty = await s.call('/r/end-empty');
    assert.equal(empty.status, 202);
    assert.equal(empty.text, '');
  });

  it('response(): redirect is 307 with relative URLs resolved, redirectPermanent is 301, location sets Location', async () => {
    const s = await withModule(
      'ctx-response-redirect',
      `export function requestHandler(ctx: any) {
  const res = ctx.response();
  const to = ctx.query().get('to');
  switch (ctx.query().get('kind')) {
    case 'temp': return res.redirect(to);
    case 'perm': return res.redirectPermanent(to);
    case 'loc': return res.status(303).location(to).end();
  }
}
`,
      { paths: ['/dir/*'] },
    );
    const rel = await s.call('/dir/sub/page?kind=temp&to=other');
    assert.equal(rel.status, 307);
    assert.equal(header(rel, 'location'), '/dir/sub/other');

    const up = await s.call('/dir/sub/page?kind=temp&to=../up');
    assert.equal(header(up, 'location'), '/dir/up');

    const abs = await s.call(`/dir/x?kind=temp&to=${encodeURIComponent('https://example.com/a?b=1')}`);
    assert.equal(abs.status, 307);
    assert.equal(header(abs, 'location'), 'https://example.com/a?b=1');

    const perm = await s.call(`/dir/x?kind=perm&to=${encodeURIComponent('/moved')}`);
    assert.equal(perm.status, 301);
    assert.equal(header(perm, 'location'), '/moved');

    const loc = await s.call(`/dir/x?kind=loc&to=${encodeURIComponent('/see-other')}`);
    assert.equal(loc.status, 303);
    assert.equal(header(loc, 'location'), '/see-other');
  });

  it('response(): cookie with options gives Set-Cookie; getCookies/getCookie read the request cookies', async () => {
    const s = await withModule(
      'ctx-response-cookie',
      `export function requestHandler(ctx: any) {
  const res = ctx.response();
  res.cookie('session', 'a b;c', { httpOnly: true, secure: true, sameSite: 'strict', maxAge: 60, path: '/app', domain: 'example.com' });
  res.cookie('plain', 'v', { expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)) });
  res.json({ all: res.getCookies(), one: res.getCookie('b'), missing: res.getCookie('zz') });
}
`,
    );
    const r = await s.call('/c', { headers: { cookie: 'a=1; b=hello%20world; c="quoted"' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { all: { a: '1', b: 'hello world', c: 'quoted' }, one: 'hello world', missing: null });
    const cookies = r.headers['set-cookie'];
    assert.ok(Array.isArray(cookies), `two Set-Cookie headers: ${JSON.stringify(cookies)}`);
    assert.equal(cookies.length, 2);
    const session = cookies.find((c) => c.startsWith('session='))!;
    assert.ok(session.startsWith('session=a%20b%3Bc;'), session);
    for (const part of ['Domain=example.com', 'Path=/app', 'Max-Age=60', 'HttpOnly', 'Secure', 'SameSite=Strict']) {
      assert.ok(session.split('; ').includes(part), `${part} in ${session}`);
    }
    const plain = cookies.find((c) => c.startsWith('plain='))!;
    assert.ok(plain.includes('Expires=Wed, 02 Jan 2030 03:04:05 GMT'), plain);
  });

  it('response(): headers and cookies set in a requestModifier are added to the proxied answer; locals are shared with the responseModifier', async () => {
    const s = await withModule(
      'ctx-response-proxied',
      `export function requestModifier(ctx: any) {
  const res = ctx.response();
  res.headers.set('X-From-Module', 'yes');
  res.cookie('seen', '1');
  res.locals.startedBy = 'requestModifier';
}
export function responseModifier(ctx: any) {
  ctx.upstream().headers.set('X-Locals', String(ctx.response().locals.startedBy));
}
`,
      { service: true },
    );
    const r = await s.call('/p');
    assert.equal(r.status, 200);
    assert.equal(r.json().data.path, '/p', 'the upstream answer is sent');
    assert.equal(header(r, 'x-from-module'), 'yes');
    assert.match(header(r, 'set-cookie') ?? '', /^seen=1/);
    assert.equal(header(r, 'x-locals'), 'requestModifier');
  });

  it('upstream(): statusCode, statusText and header changes in a responseModifier reach the client', async () => {
    const s = await withModule(
      'ctx-upstream-head',
      `export function responseModifier(ctx: any) {
  const up = ctx.upstream();
  up.headers.set('X-Upstream-Status', up.statusCode + ' ' + up.statusText);
  up.headers.set('X-Upstream-Type', up.headers.get('content-type'));
  up.headers.del('x-drop-me');
  if (ctx.query().has('created')) up.status(201);
}
`,
      { service: true },
    );
    const up = await startUpstream((_hit, res) => sendJson(res, 200, { ok: true }, { 'x-drop-me': 'present' }));
    upstreams.push(up);
    await s.service('dropper', [up.url]);
    await s.route({ name: 'drop', paths: ['/drop'], methods: ['GET'], modules: ['m'], service: 'dropper' });

    const r = await s.call('/head?status=404');
    assert.equal(r.status, 404);
    assert.equal(header(r, 'x-upstream-status'), '404 Not Found');
    assert.match(header(r, 'x-upstream-type') ?? '', /application\/json/);
    assert.equal(r.json().data.path, '/head?status=404', 'the body streams through untouched');

    const created = await s.call('/head?created=1');
    assert.equal(created.status, 201);
    assert.equal(created.json().data.path, '/head?created=1');

    const dropped = await s.call('/drop');
    assert.equal(dropped.status, 200);
    assert.equal(header(dropped, 'x-drop-me'), undefined);
    assert.deepEqual(dropped.json(), { ok: true });
  });

  it('upstream(): reading the body without replacing it still sends the original body', async () => {
    const s = await withModule(
      'ctx-upstream-read',
      `export async function responseModifier(ctx: any) {
  const up = ctx.upstream();
  const how = ctx.query().get('how');
  let size = 0;
  if (how === 'json') { const j: any = await up.readJson(); size = JSON.stringify(j).length; }
  if (how === 'text') { size = (await up.readText()).length; }
  if (how === 'body') { size = (await up.readBody()).byteLength; }
  if (how === 'twice') { await up.readText(); size = (await up.readJson() as any).data.path.length; }
  up.headers.set('X-Read-Size', String(size));
}
`,
      { service: true },
    );
    for (const how of ['json', 'text', 'body', 'twice']) {
      const r = await s.call(`/read?how=${how}`);
      assert.equal(r.status, 200, how);
      assert.equal(r.json().data.path, `/read?how=${how}`, `${how}: the original body is sent`);
      assert.ok(Number(header(r, 'x-read-size')) > 0, how);
      assert.equal(header(r, 'content-length'), String(Buffer.byteLength(r.text)), how);
    }
    const big = await s.call('/read?how=body&size=300000');
    assert.equal(big.status, 200);
    assert.equal(big.text.length, 300000);
    assert.equal(header(big, 'x-read-size'), '300000');
  });

  it('upstream(): a slow async responseModifier loses no body bytes, small or larger than what is held', async () => {
    const s = await withModule(
      'ctx-upstream-slow',
      `import { sleep } from 'dgate';
export async function responseModifier(ctx: any) {
  await sleep(0.05);
  const up = ctx.upstream();
  if (ctx.query().get('read') === '1') up.headers.set('X-Read-Size', String((await up.readBody()).byteLength));
  up.headers.set('X-Slow', 'done');
}
`,
      { service: true },
    );
    for (const size of [10, 200_000, 2_000_000]) {
      for (const read of ['0', '1']) {
        const r = await s.call(`/slow?size=${size}&read=${read}`);
        assert.equal(r.status, 200, `${size}/${read}`);
        assert.equal(header(r, 'x-slow'), 'done');
        assert.equal(r.text.length, size, `${size} bytes, read=${read}`);
        if (read === '1') assert.equal(header(r, 'x-read-size'), String(size));
      }
    }
  });

  it('upstream(): writeBody/writeJson replace the body; status and redirect change the answer', async () => {
    const s = await withModule(
      'ctx-upstream-write',
      `export async function responseModifier(ctx: any) {
  const up = ctx.upstream();
  switch (ctx.query().get('how')) {
    case 'body': up.writeBody('replaced'); break;
    case 'bytes': up.writeBody(new TextEncoder().encode('replaced bytes').buffer); break;
    case 'json': { const j: any = await up.readJson(); up.status(202).writeJson({ path: j.data.path, wrapped: true }); break; }
    case 'redirect': up.redirect('/elsewhere'); break;
    case 'permanent': up.redirectPermanent('https://example.com/'); break;
  }
}
`,
      { service: true },
    );
    const body = await s.call('/w?how=body');
    assert.equal(body.status, 200);
    assert.equal(body.text, 'replaced');
    assert.equal(header(body, 'content-length'), '8');

    const bytes = await s.call('/w?how=bytes');
    assert.equal(bytes.text, 'replaced bytes');

    const json = await s.call('/w?how=json');
    assert.equal(json.status, 202);
    assert.deepEqual(json.json(), { path: '/w?how=json', wrapped: true });
    assert.match(header(json, 'content-type') ?? '', /application\/json/);

    const redirect = await s.call('/w?how=redirect');
    assert.equal(redirect.status, 307);
    assert.equal(header(redirect, 'location'), '/elsewhere');
    assert.equal(redirect.text, '');

    const permanent = await s.call('/w?how=permanent');
    assert.equal(permanent.status, 301);
    assert.equal(header(permanent, 'location'), 'https://example.com/');
  });

  it('upstream(): an async responseModifier on a HEAD request still decides the answer head', async () => {
    const s = await withModule(
      'ctx-upstream-head-request',
      `export async function responseModifier(ctx: any) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  ctx.upstream().headers.set('X-Late', 'set after a wait');
  ctx.upstream().status(202);
}
`,
      { service: true },
    );
    const head = await s.call('/h', { method: 'HEAD' });
    assert.equal(head.status, 202);
    assert.equal(header(head, 'x-late'), 'set after a wait');
    const get = await s.call('/h');
    assert.equal(get.status, 202);
    assert.equal(header(get, 'x-late'), 'set after a wait');
    assert.equal(get.json().data.method, 'GET');
  });

  it('a header or method HTTP cannot carry, set by a requestModifier, is the module\'s fault: 500', async () => {
    const s = await withModule(
      'ctx-invalid-header',
      `export function requestModifier(ctx: any) {
  if (ctx.query().get('how') === 'name') ctx.request().headers.set('X Bad Name', '1');
  else if (ctx.query().get('how') === 'value') ctx.request().headers.set('X-Bad', 'a\\r\\nInjected: 1');
  else ctx.request().method = 'GE T';
}
`,
      { service: true },
    );
    for (const how of ['name', 'value', 'method']) {
      const r = await s.call(`/x?how=${how}`);
      assert.equal(r.status, 500, `${how}: ${r.text}`);
    }
  });

  it('upstream() is null outside responseModifier', async () => {
    const s = await withModule(
      'ctx-upstream-null',
      `export function requestModifier(ctx: any) { ctx.request().headers.set('X-Upstream-In-ReqMod', String(ctx.upstream())); }
export function responseModifier(ctx: any) { ctx.upstream().headers.set('X-Upstream-In-ResMod', String(ctx.upstream() !== null)); }
`,
      { service: true },
    );
    const r = await s.call('/n');
    assert.deepEqual(r.json().data.req_headers['X-Upstream-In-ReqMod'], ['null']);
    assert.equal(header(r, 'x-upstream-in-resmod'), 'true');
  });

  it('pathParams/pathParam give the route parameters, "" for an absent one; query() is request().query', async () => {
    const s = await withModule(
      'ctx-params',
      `export function requestHandler(ctx: any) {
  ctx.response().json({
    params: ctx.pathParams(),
    id: ctx.pathParam('id'),
    absent: ctx.pathParam('nope'),
    sameQuery: ctx.query() === ctx.request().query,
    q: ctx.query().get('q'),
  });
}
`,
      { paths: ['/users/{id}/posts/{post}', '/files/*'] },
    );
    const a = await s.call('/users/42/posts/hello-world?q=search');
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.json(), { params: { id: '42', post: 'hello-world' }, id: '42', absent: '', sameQuery: true, q: 'search' });

    const b = await s.call('/files/a/b/c.txt');
    assert.deepEqual(b.json().params, { '*': 'a/b/c.txt' });
    assert.equal(b.json().id, '');
  });

  it('route(), service() and namespace() are plain objects with clean field names', async () => {
    const s = await scope(gw, 'ctx-info');
    await s.service('echo', [echo.url], { retries: 2 });
    await s.module(
      'info',
      `export function requestModifier(ctx: any) {
  const info = { route: ctx.route(), service: ctx.service(), namespace: ctx.namespace() };
  ctx.response().status(200).json(info);
}
`,
    );
    await s.module('other', 'export const nothing = 1;\n');
    await s.module('handler', `export function requestHandler(ctx: any) { ctx.response().json({ service: ctx.service(), route: ctx.route().name }); }\n`);
    await s.route({ name: 'with-service', paths: ['/svc/*'], methods: ['GET', 'POST'], service: 'echo', modules: ['info', 'other'], stripPath: true, tags: ['t1'] });
    await s.route({ name: 'no-service', paths: ['/plain'], methods: ['GET'], modules: ['handler'] });

    const r = await s.call('/svc/x');
    assert.equal(r.status, 200, r.text);
    const info = r.json();
    for (const [what, obj] of Object.entries(info)) {
      for (const key of Object.keys(obj as object)) assert.doesNotMatch(key, /[,\s]/, `${what} has a clean field name: ${key}`);
    }
    assert.equal(info.route.name, 'with-service');
    assert.deepEqual(info.route.paths, ['/svc/*']);
    assert.deepEqual(info.route.methods, ['GET', 'POST']);
    assert.equal(info.route.namespace, s.ns);
    assert.equal(info.route.service, 'echo');
    assert.deepEqual(info.route.modules, ['info', 'other']);
    assert.equal(info.route.stripPath, true);
    assert.equal(info.route.preserveHost, false);
    assert.deepEqual(info.route.tags, ['t1']);
    assert.equal(info.service.name, 'echo');
    assert.deepEqual(info.service.urls, [echo.url]);
    assert.equal(info.service.retries, 2);
    assert.equal(info.service.namespace, s.ns);
    assert.equal(info.namespace.name, s.ns);

    const plain = await s.call('/plain');
    assert.deepEqual(plain.json(), { service: null, route: 'no-service' });
  });

  it('set/get share values between the functions of one request, and not across requests', async () => {
    const s = await withModule(
      'ctx-set-get',
      `export function requestModifier(ctx: any) {
  const before = ctx.get('k');
  ctx.set('k', { n: 41, before: before === undefined ? 'undefined' : 'leaked' });
}
export function responseModifier(ctx: any) {
  const v: any = ctx.get('k');
  ctx.upstream().headers.set('X-Shared', v.n + 1 + '/' + v.before);
}
`,
      { service: true },
    );
    for (let i = 0; i < 2; i++) {
      const r = await s.call('/s');
      assert.equal(r.status, 200);
      assert.equal(header(r, 'x-shared'), '42/undefined', `request ${i}`);
    }
  });
});

/**
 * How the modules of a route take part in a request: short-circuits, answers that replace the
 * upstream's, the order of modifiers across modules, shared functions, fetchUpstream with the
 * route's path rules, routes without a service, async code, and javascript module styles.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { closeGateway, header, scope, startUpstream, type Upstream } from './support/modules-harness.js';

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

async function recorder(): Promise<Upstream> {
  const u = await startUpstream();
  upstreams.push(u);
  return u;
}

describe('requestModifier short-circuit and responseModifier answers', { timeout: 60_000 }, () => {
  it('a requestModifier that answers skips the upstream and the responseModifier', async () => {
    const up = await recorder();
    const s = await scope(gw, 'short-circuit');
    await s.service('up', [up.url]);
    await s.module(
      'guard',
      `export function requestModifier(ctx: any) {
  if (ctx.request().headers.get('authorization') !== 'Bearer ok') {
    ctx.response().status(401).json({ error: 'unauthorized' });
  }
}
export function responseModifier(ctx: any) { ctx.upstream().headers.set('X-ResMod', 'ran'); }
`,
    );
    await s.route({ name: 'r', paths: ['/*'], methods: ['*'], service: 'up', modules: ['guard'] });

    const denied = await s.call('/secret', { method: 'POST', body: 'payload' });
    assert.equal(denied.status, 401);
    assert.deepEqual(denied.json(), { error: 'unauthorized' });
    assert.equal(header(denied, 'x-resmod'), undefined);
    assert.equal(up.hits.length, 0, 'the upstream saw nothing');

    const allowed = await s.call('/secret', { headers: { authorization: 'Bearer ok' } });
    assert.equal(allowed.status, 200);
    assert.equal(header(allowed, 'x-resmod'), 'ran');
    assert.equal(up.hits.length, 1);
  });

  it('a later requestModifier does not run once an earlier one answered', async () => {
    const up = await recorder();
    const s = await scope(gw, 'short-circuit-chain');
    await s.service('up', [up.url]);
    await s.module('first', `export async function requestModifier(ctx: any) { await Promise.resolve(); ctx.response().status(403).send('stop'); }\n`);
    await s.module('second', `export function requestModifier(ctx: any) { ctx.response().headers.set('X-Second', 'ran'); }\n`);
    await s.route({ name: 'r', paths: ['/*'], methods: ['*'], service: 'up', modules: ['first', 'second'] });
    const r = await s.call('/x');
    assert.equal(r.status, 403);
    assert.equal(r.text, 'stop');
    assert.equal(header(r, 'x-second'), undefined);
    assert.equal(up.hits.length, 0);
  });

  it('a responseModifier that answers with ctx.response().json() replaces the upstream answer', async () => {
    const s = await scope(gw, 'resmod-json');
    await s.service('echo', [echo.url]);
    await s.module(
      'replace',
      `export async function responseModifier(ctx: any) {
  const up: any = await ctx.upstream().readJson();
  ctx.response().status(202).json({ replaced: true, upstreamPath: up.data.path });
}
`,
    );
    await s.route({ name: 'r', paths: ['/*'], methods: ['*'], service: 'echo', modules: ['replace'] });
    const r = await s.call('/orig');
    assert.equal(r.status, 202);
    assert.deepEqual(r.json(), { replaced: true, upstreamPath: '/orig' });
  });

  it('a responseModifier that answers with ctx.response().send() without reading the upstream body replaces it', async () => {
    const s = await scope(gw, 'resmod-send');
    await s.service('echo', [echo.url]);
    await s.module('replace', `export function responseModifier(ctx: any) { ctx.response().status(200).send('from module'); }\n`);
    await s.route({ name: 'r', paths: ['/*'], methods: ['*'], service: 'echo', modules: ['replace'] });
    const r = await s.call('/orig?size=200000');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'from module');
  });

  it('a responseModifier that answers with ctx.response().end() replaces the upstream answer', async () => {
    const s = await scope(gw, 'resmod-end');
    await s.service('echo', [echo.url]);
    await s.module('replace', `export function responseModifier(ctx: any) { ctx.response().status(203).end('ended by module'); }\n`);
    await s.route({ name: 'r', paths: ['/*'], methods: ['*'], service: 'echo', modules: ['replace'] });
    const r = await s.call('/orig');
    assert.equal(r.status, 203);
    assert.equal(r.text, 'ended by module');
  });
});

describe('modules of one route', { timeout: 60_000 }, () => {
  it('requestModifier and responseModifier of every module run in route order (not name order)', async () => {
    const s = await scope(gw, 'order');
    await s.service('echo', [echo.url]);
    const mod = (name: string, async: boolean) => `import { sleep } from 'dgate';
export ${async ? 'async ' : ''}function requestModifier(ctx: any) {
  ${async ? 'await sleep(0.02);' : ''}
  ctx.request().headers.add('X-Order', ${JSON.stringify(name)});
}
export ${async ? 'async ' : ''}function responseModifier(ctx: any) {
  ${async ? 'await sleep(0.02);' : ''}
  const h = ctx.upstream().headers;
  h.set('X-Res-Order', (h.get('X-Res-Order') ?? '') + ${JSON.stringify(name + ';')});
}
`;
    await s.module('zeta', mod('zeta', false));
    await s.module('alpha', mod('alpha', true));
    await s.module('mid', mod('mid', false));
    await s.route({ name: 'r', paths: ['/*'], methods: ['*'], service: 'echo', modules: ['zeta', 'alpha', 'mid'] });
    const r = await s.call('/o');
    assert.equal(r.status, 200);
    const order = Object.entries(r.json().data.req_headers).find(([k]) => k.toLowerCase() === 'x-order')?.[1] as string[];
    // separate header lines on Node; one line joined by ", " on Bun (fetch): the same list (RFC 9110 §5.3)
    assert.deepEqual(order.flatMap((v) => v.split(', ')), ['zeta', 'alpha', 'mid']);
    assert.equal(header(r, 'x-res-order'), 'zeta;alpha;mid;');
  });

  it('a function re-exported by two modules of the route runs once', async () => {
    const s = await scope(gw, 'reexport');
    await s.service('echo', [echo.url]);
    await s.module(
      'base',
      `export function requestModifier(ctx: any) { ctx.request().headers.add('X-Calls', 'req'); }
export function responseModifier(ctx: any) { ctx.upstream().headers.add('X-Res-Calls', 'res'); }
`,
    );
    await s.module('wrapper', `export { requestModifier, responseModifier } from 'base';\n`);
    await s.route({ name: 'r', paths: ['/*'], methods: ['*'], service: 'echo', modules: ['wrapper', 'base'] });
    const r = await s.call('/once');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json().data.req_headers['X-Calls'], ['req']);
    assert.equal(header(r, 'x-res-calls'), 'res');
  });

  it('imports between modules share one instance: top-level state is the same object', async () => {
    const s = await scope(gw, 'shared-instance');
    await s.module('counter', `let n = 0;\nexport function next() { return ++n; }\n`);
    await s.module('a', `import { next } from './counter';\nexport function requestHandler(ctx: any) { ctx.response().json({ from: 'a', n: next() }); }\n`);
    await s.module('b', `import { next } from './counter.ts';\nexport function requestHandler(ctx: any) { ctx.response().json({ from: 'b', n: next() }); }\n`);
    await s.route({ name: 'a', paths: ['/a'], methods: ['GET'], modules: ['a'] });
    await s.route({ name: 'b', paths: ['/b'], methods: ['GET'], modules: ['b'] });
    assert.deepEqual((await s.call('/a')).json(), { from: 'a', n: 1 });
    assert.deepEqual((await s.call('/b')).json(), { from: 'b', n: 2 });
    assert.deepEqual((await s.call('/a')).json(), { from: 'a', n: 3 });
  });

  it('top-level module state survives unrelated writes and starts afresh when the namespace\'s module code changes', async () => {
    const s = await scope(gw, 'module-state-lifetime');
    await s.module('count', `let n = 0;\nexport function requestHandler(ctx: any) { ctx.response().json({ n: ++n }); }\n`);
    await s.route({ name: 'count', paths: ['/count'], methods: ['GET'], modules: ['count'] });
    assert.deepEqual((await s.call('/count')).json(), { n: 1 });
    assert.deepEqual((await s.call('/count')).json(), { n: 2 });
    await s.service('unrelated', [echo.url]);
    await s.route({ name: 'other', paths: ['/other'], methods: ['GET'], service: 'unrelated' });
    assert.deepEqual((await s.call('/count')).json(), { n: 3 }, 'a new service and route keep the loaded module');
    await s.module('count', `let n = 100;\nexport function requestHandler(ctx: any) { ctx.response().json({ n: ++n }); }\n`);
    assert.deepEqual((await s.call('/count')).json(), { n: 101 });
  });
});

describe('fetchUpstream', { timeout: 60_000 }, () => {
  it('its URL is used with the route stripPath and preserveHost rules', async () => {
    const s = await scope(gw, 'fetch-upstream');
    await s.service('unused', [`${echo.url}/never`]);
    await s.module('pick', `export function fetchUpstream(ctx: any) { return ${JSON.stringify(`${echo.url}/v1`)}; }\n`);
    await s.route({ name: 'strip', paths: ['/api/*'], methods: ['*'], service: 'unused', modules: ['pick'], stripPath: true, preserveHost: true });
    await s.route({ name: 'keep', paths: ['/keep/*'], methods: ['*'], service: 'unused', modules: ['pick'] });

    const strip = await s.call('/api/users/1?x=1');
    assert.equal(strip.status, 200);
    assert.equal(strip.json().data.path, '/v1/users/1?x=1');
    assert.equal(strip.json().data.host, s.host);

    const keep = await s.call('/keep/users/1');
    assert.equal(keep.json().data.path, '/v1/keep/users/1');
    assert.equal(keep.json().data.host, new URL(echo.url).host);
  });

  it('an async fetchUpstream works, and a URL without a scheme gets http:// in front', async () => {
    const s = await scope(gw, 'fetch-upstream-async');
    await s.service('unused', [`${echo.url}/never`]);
    const hostPort = new URL(echo.url).host;
    await s.module(
      'pick',
      `import { sleep } from 'dgate';
export async function fetchUpstream(ctx: any) {
  await sleep(0.01);
  return ctx.query().has('bare') ? ${JSON.stringify(`${hostPort}/bare`)} : ${JSON.stringify(`${echo.url}/async`)};
}
`,
    );
    await s.route({ name: 'r', paths: ['/x'], methods: ['GET'], service: 'unused', modules: ['pick'], stripPath: true });
    assert.equal((await s.call('/x')).json().data.path, '/async');
    const bare = await s.call('/x?bare=1');
    assert.equal(bare.status, 200);
    assert.equal(bare.json().data.path, '/bare?bare=1');
  });

  it('without fetchUpstream a module route spreads requests over the service URLs', async () => {
    const s = await scope(gw, 'round-robin');
    await s.service('three', [`${echo.url}/1`, `${echo.url}/2`, `${echo.url}/3`]);
    await s.module('noop', `export function requestModifier(ctx: any) {}\n`);
    await s.route({ name: 'r', paths: ['/rr'], methods: ['GET'], service: 'three', modules: ['noop'], stripPath: true });
    const paths = [];
    for (let i = 0; i < 6; i++) paths.push((await s.call('/rr')).json().data.path);
    assert.deepEqual([...new Set(paths)].sort(), ['/1', '/2', '/3']);
  });
});

describe('routes without a service', { timeout: 60_000 }, () => {
  it('requestHandler answers; without one the answer is 501; nothing written is 204 with the headers set', async () => {
    const s = await scope(gw, 'no-service');
    await s.module('handler', `export function requestHandler(ctx: any) { ctx.response().status(200).json({ handled: ctx.request().path }); }\n`);
    await s.module(
      'silent',
      `export function requestHandler(ctx: any) { ctx.response().headers.set('X-Silent', 'yes'); ctx.response().cookie('c', '1'); }\n`,
    );
    await s.module(
      'modifier-only',
      `export function requestModifier(ctx: any) {
  if (ctx.query().has('answer')) ctx.response().status(200).send('answered by requestModifier');
}
`,
    );
    await s.route({ name: 'handler', paths: ['/handler'], methods: ['GET'], modules: ['handler'] });
    await s.route({ name: 'silent', paths: ['/silent'], methods: ['GET'], modules: ['silent'] });
    await s.route({ name: 'modifier-only', paths: ['/modifier-only'], methods: ['GET'], modules: ['modifier-only'] });
    await s.route({ name: 'blank', paths: ['/blank'], methods: ['GET'] });

    const handled = await s.call('/handler');
    assert.equal(handled.status, 200);
    assert.deepEqual(handled.json(), { handled: '/handler' });

    const silent = await s.call('/silent');
    assert.equal(silent.status, 204);
    assert.equal(silent.text, '');
    assert.equal(header(silent, 'x-silent'), 'yes');
    assert.match(header(silent, 'set-cookie') ?? '', /^c=1/);

    assert.equal((await s.call('/modifier-only')).status, 501);
    const answered = await s.call('/modifier-only?answer=1');
    assert.equal(answered.status, 200, 'the requestModifier runs even without a requestHandler');
    assert.equal(answered.text, 'answered by requestModifier');

    assert.equal((await s.call('/blank')).status, 501);
  });

  it('requestModifier runs before requestHandler and can pass values to it', async () => {
    const s = await scope(gw, 'no-service-chain');
    await s.module(
      'm',
      `export async function requestModifier(ctx: any) { await Promise.resolve(); ctx.set('user', ctx.request().headers.get('x-user')); ctx.request().headers.set('x-seen', 'mod'); }
export function requestHandler(ctx: any) { ctx.response().json({ user: ctx.get('user'), seen: ctx.request().headers.get('x-seen') }); }
`,
    );
    await s.route({ name: 'r', paths: ['/r'], methods: ['GET'], modules: ['m'] });
    assert.deepEqual((await s.call('/r', { headers: { 'x-user': 'ann' } })).json(), { user: 'ann', seen: 'mod' });
  });
});

describe('async code and module styles', { timeout: 60_000 }, () => {
  it('typescript: async/await, promise chains and timers are awaited', async () => {
    const s = await scope(gw, 'async-ts');
    await s.module(
      'm',
      `import { sleep } from 'dgate';
interface Reply { steps: string[] }
export async function requestHandler(ctx: any): Promise<void> {
  const reply: Reply = { steps: [] };
  await sleep(0.01);
  reply.steps.push('sleep');
  await new Promise<void>((resolve) => setTimeout(() => { reply.steps.push('timer'); resolve(); }, 10));
  const v = await Promise.resolve(1).then((n) => n + 1);
  reply.steps.push('then:' + v);
  ctx.response().json(reply);
}
`,
    );
    await s.route({ name: 'r', paths: ['/r'], methods: ['GET'], modules: ['m'] });
    const r = await s.call('/r');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { steps: ['sleep', 'timer', 'then:2'] });
  });

  it('javascript ESM: a returned promise is awaited and imports work', async () => {
    const s = await scope(gw, 'async-js');
    await s.module(
      'm',
      `import { sleep } from 'dgate';
export function requestHandler(ctx) {
  return sleep(0.01).then(() => new Promise((resolve) => setTimeout(resolve, 10))).then(() => {
    ctx.response().status(201).json({ style: 'esm' });
  });
}
`,
      'javascript',
    );
    await s.route({ name: 'r', paths: ['/r'], methods: ['GET'], modules: ['m'] });
    const r = await s.call('/r');
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json(), { style: 'esm' });
  });

  it('script-style javascript: top-level functions are the hooks', async () => {
    const s = await scope(gw, 'script-functions');
    await s.service('echo', [echo.url]);
    await s.module(
      'm',
      `var calls = 0;
function requestModifier(ctx) {
  calls++;
  ctx.request().headers.set('X-Script', 'modifier ' + calls);
}
async function responseModifier(ctx) {
  var body = await ctx.upstream().readJson();
  ctx.upstream().writeJson({ script: true, sawHeader: body.data.req_headers['X-Script'][0] });
}
`,
      'javascript',
    );
    await s.route({ name: 'r', paths: ['/r'], methods: ['GET'], service: 'echo', modules: ['m'] });
    const r = await s.call('/r');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { script: true, sawHeader: 'modifier 1' });
  });

  it('script-style javascript: exports.requestHandler = ... is a hook, and require() gives the built-ins', async () => {
    const s = await scope(gw, 'script-exports');
    await s.module(
      'm',
      `var dgate = require('dgate');
exports.requestHandler = async function (ctx) {
  await dgate.sleep(0.01);
  ctx.response().json({ style: 'exports', sha1: dgate.crypto.sha1('abc', 'hex') });
};
`,
      'javascript',
    );
    await s.route({ name: 'r', paths: ['/r'], methods: ['GET'], modules: ['m'] });
    const r = await s.call('/r');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { style: 'exports', sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d' });
  });

  it('javascript ESM: an un-exported top-level function is not a hook', async () => {
    const s = await scope(gw, 'esm-unexported');
    await s.module(
      'm',
      `import { sleep } from 'dgate';
function requestHandler(ctx) {
  ctx.response().json({ ran: true });
}
export function requestModifier(ctx) {
  ctx.response().headers.set('X-Modifier', 'ran');
}
`,
      'javascript',
    );
    await s.module('ts', `function requestHandler(ctx: any) { ctx.response().json({ ran: true }); }\nexport const unrelated = 1;\n`);
    await s.route({ name: 'js', paths: ['/js'], methods: ['GET'], modules: ['m'] });
    await s.route({ name: 'ts', paths: ['/ts'], methods: ['GET'], modules: ['ts'] });
    assert.equal((await s.call('/js')).status, 501);
    assert.equal((await s.call('/ts')).status, 501);
  });
});

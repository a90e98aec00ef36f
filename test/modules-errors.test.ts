/**
 * Module problems found when a module or route is written: the write is refused with a 400 that
 * names the module (and where in its source), and nothing changes — the previous code keeps
 * serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { b64, closeGateway, scope, type Scope } from './support/modules-harness.js';

let gw: TestGateway;

before(async () => {
  gw = await startTestGateway();
});
after(() => closeGateway(gw));

const GOOD = `export function requestHandler(ctx: any) {\n  ctx.response().json({ version: 'good' });\n}\n`;

/** A namespace where module `m` answers {version: 'good'} on /r. */
async function serving(ns: string): Promise<Scope> {
  const s = await scope(gw, ns);
  await s.module('m', GOOD);
  await s.route({ name: 'r', paths: ['/r'], methods: ['GET'], modules: ['m'] });
  return s;
}

/** The old code still answers and the stored module is the old one. */
async function unchanged(s: Scope): Promise<void> {
  const r = await s.call('/r');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), { version: 'good' });
  const stored = await s.get('module', 'm');
  assert.equal(stored.status, 200);
  assert.equal(stored.body.data.payload, b64(GOOD));
}

describe('module errors at write time', { timeout: 60_000 }, () => {
  it('a syntax error is a 400 naming the module, line and column; the old code keeps serving', async () => {
    const s = await serving('err-syntax');
    const res = await s.putModule('m', `export function requestHandler(ctx: any) {\n  const x = 1;\n  ctx.response().json({ a: 1 };\n}\n`);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, /\bm\b/);
    assert.match(res.body.error, /\b3:\d+\b/, `line 3 and a column in: ${res.body.error}`);
    await unchanged(s);
  });

  it('a syntax error in a javascript module is refused the same way', async () => {
    const s = await serving('err-syntax-js');
    const res = await s.putModule('m', `function requestHandler(ctx) {\n  ctx.response().json({ a: 1 );\n}\n`, 'javascript');
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, /\bm\b/);
    assert.match(res.body.error, /\b2:\d+\b/, res.body.error);
    await unchanged(s);
  });

  it('a module attached to no route with a syntax error is refused and not stored', async () => {
    const s = await serving('err-syntax-unattached');
    const res = await s.putModule('loose', `export const x = ;\n`);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, /\bloose\b/);
    assert.match(res.body.error, /\b1:\d+\b/, res.body.error);
    assert.equal((await s.get('module', 'loose')).status, 404);
    await unchanged(s);
  });

  it('a route whose module imports a missing module is refused, naming the module, the import and its line', async () => {
    const s = await serving('err-import-missing');
    await s.module('needs', `import { helper } from './missing';\nexport function requestHandler(ctx: any) { ctx.response().json({ v: helper() }); }\n`);
    const res = await s.putRoute({ name: 'uses', paths: ['/uses'], methods: ['GET'], modules: ['needs'] });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, /\bneeds\b/);
    assert.match(res.body.error, /missing/);
    assert.match(res.body.error, /needs\.ts:1:\d+/, `the import's position in: ${res.body.error}`);
    assert.equal((await s.get('route', 'uses')).status, 404, 'the route was not created');
    assert.equal((await s.call('/uses')).status, 404);
    await unchanged(s);
  });

  it('re-PUT of a module in use, now importing a missing module, is refused and the old code keeps serving', async () => {
    const s = await serving('err-import-missing-reput');
    const res = await s.putModule('m', `import { helper } from 'nowhere';\nexport function requestHandler(ctx: any) { ctx.response().json({ v: helper() }); }\n`);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, /\bm\b/);
    assert.match(res.body.error, /nowhere/);
    await unchanged(s);
  });

  it('a module of another namespace cannot be imported', async () => {
    const other = await scope(gw, 'err-import-other-ns');
    await other.module('helper', `export const helper = () => 'other namespace';\n`);
    const s = await serving('err-import-cross-ns');
    const res = await s.putModule('m', `import { helper } from './helper';\nexport function requestHandler(ctx: any) { ctx.response().json({ v: helper() }); }\n`);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, /helper/);
    await unchanged(s);
  });

  it('an unknown dgate/xyz import is refused, naming it and its line', async () => {
    const s = await serving('err-import-builtin');
    const res = await s.putModule('m', `export const a = 1;\nimport { x } from 'dgate/xyz';\nexport function requestHandler(ctx: any) { ctx.response().json({ x }); }\n`);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, /\bm\b/);
    assert.match(res.body.error, /dgate\/xyz/);
    assert.match(res.body.error, /m\.ts:2:\d+/, `the import's position in: ${res.body.error}`);
    await unchanged(s);
  });

  it('two modules of one route exporting different fetchUpstream functions are a conflict naming both', async () => {
    const s = await serving('err-conflict');
    await s.service('svc', ['http://127.0.0.1:9']);
    await s.module('picker-one', `export function fetchUpstream(ctx: any) { return 'http://127.0.0.1:1'; }\n`);
    await s.module('picker-two', `export function fetchUpstream(ctx: any) { return 'http://127.0.0.1:2'; }\n`);
    const res = await s.putRoute({ name: 'both', paths: ['/both'], methods: ['GET'], service: 'svc', modules: ['picker-one', 'picker-two'] });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, /picker-one/);
    assert.match(res.body.error, /picker-two/);
    assert.match(res.body.error, /fetchUpstream/);
    assert.equal((await s.get('route', 'both')).status, 404);

    // The same conflict introduced by re-PUT of a module already on a route.
    await s.module('picker-three', `export const nothing = 1;\n`);
    await s.route({ name: 'pair', paths: ['/pair'], methods: ['GET'], service: 'svc', modules: ['picker-one', 'picker-three'] });
    const reput = await s.putModule('picker-three', `export function fetchUpstream(ctx: any) { return 'http://127.0.0.1:3'; }\n`);
    assert.equal(reput.status, 400, JSON.stringify(reput.body));
    assert.match(reput.body.error, /picker-one/);
    assert.match(reput.body.error, /picker-three/);
    assert.equal((await s.get('module', 'picker-three')).body.data.payload, b64(`export const nothing = 1;\n`));
    await unchanged(s);
  });

  it('an export named like a hook that is not a function is refused, naming the module and the export', async () => {
    const s = await serving('err-not-function');
    const res = await s.putModule('m', `export const requestHandler = { not: 'a function' };\n`);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, /\bm\b/);
    assert.match(res.body.error, /requestHandler/);
    await unchanged(s);

    const js = await s.putModule('m', `exports.errorHandler = 42;\n`, 'javascript');
    assert.equal(js.status, 400, `script-style: ${JSON.stringify(js.body)}`);
    assert.match(js.body.error, /errorHandler/);
    await unchanged(s);
  });

  it('top-level code that throws is refused with its message, module, line and column', async () => {
    const s = await serving('err-top-level');
    const res = await s.putModule('m', `const limit = 3;\n\nthrow new Error('config missing: ' + limit);\nexport function requestHandler(ctx: any) {}\n`);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, /\bm\b/);
    assert.match(res.body.error, /config missing: 3/);
    assert.match(res.body.error, /m\.ts:3:\d+/, res.body.error);
    await unchanged(s);
  });

  it('a route naming a module that does not exist is refused', async () => {
    const s = await serving('err-unknown-module');
    const res = await s.putRoute({ name: 'ghost', paths: ['/ghost'], methods: ['GET'], modules: ['ghost'] });
    assert.ok(res.status >= 400 && res.status < 500, JSON.stringify(res.body));
    assert.match(res.body.error, /ghost/);
    assert.equal((await s.get('route', 'ghost')).status, 404);
    await unchanged(s);
  });
});

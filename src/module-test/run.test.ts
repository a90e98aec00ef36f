import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModuleTestSetupError, runModuleTest } from './index.js';

describe('runModuleTest', () => {
  it('shows the upstream request as modified and the answer after responseModifier', async () => {
    const result = await runModuleTest({
      modules: [
        {
          name: 'm',
          source: `
export function requestModifier(ctx: any) {
  ctx.request().headers.set('X-Added', 'yes');
  ctx.request().writeJson({ rewritten: true });
  console.log('modifying', ctx.request().path);
}
export async function responseModifier(ctx: any) {
  const body: any = await ctx.upstream().readJson();
  ctx.upstream().status(202).writeJson({ ...body, extra: 1 });
}`,
        },
      ],
      request: { method: 'POST', path: '/orders?x=1', headers: { 'X-Client': 'c' }, body: 'original' },
      upstream: { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"from":"upstream"}' },
    });
    assert.match(result.upstream!.url, /^http:\/\/127\.0\.0\.1:\d+\/orders\?x=1$/);
    assert.equal(result.upstream!.method, 'POST');
    assert.deepEqual(result.upstream!.headers['X-Added'], ['yes']);
    // header names arrive as the client spelled them on Node, lower-cased on Bun
    const client = Object.entries(result.upstream!.headers).find(([k]) => k.toLowerCase() === 'x-client')?.[1];
    assert.deepEqual(client, ['c']);
    assert.equal(result.upstream!.body, '{"rewritten":true}');
    assert.equal(result.response.status, 202);
    assert.deepEqual(JSON.parse(result.response.body), { from: 'upstream', extra: 1 });
    assert.ok(result.logs.some((l) => l.msg === 'modifying /orders' && l.module === 'm'), JSON.stringify(result.logs));
  });

  it('runs a requestHandler when there is no upstream', async () => {
    const result = await runModuleTest({
      modules: [{ name: 'h', source: `export function requestHandler(ctx) { ctx.response().status(201).json({ id: ctx.pathParam('id') }); }`, moduleType: 'javascript' }],
      route: { paths: ['/items/{id}'] },
      request: { path: '/items/42' },
      upstream: null,
    });
    assert.equal(result.upstream, null);
    assert.equal(result.response.status, 201);
    assert.deepEqual(JSON.parse(result.response.body), { id: '42' });
  });

  it('runs a module that answers by itself without a service when no upstream is given', async () => {
    const result = await runModuleTest({
      modules: [{ name: 'change_checker', source: `export function requestHandler(ctx: any) { ctx.response().status(201).json({ mod: 'change_checker' }); }` }],
    });
    assert.equal(result.upstream, null);
    assert.equal(result.response.status, 201);
    assert.deepEqual(JSON.parse(result.response.body), { mod: 'change_checker' });
    assert.deepEqual(result.notes, []);
  });

  it('does not call a given upstream when a module exports requestHandler, and says so', async () => {
    const result = await runModuleTest({
      modules: [
        { name: 'handler', source: `export function requestHandler(ctx: any) { ctx.response().status(202).json({ by: 'handler' }); }` },
        { name: 'after', source: `export function responseModifier(ctx: any) { ctx.upstream().status(299); }` },
      ],
      upstream: { url: 'http://127.0.0.1:9/never' },
    });
    assert.equal(result.upstream, null);
    assert.equal(result.response.status, 202);
    assert.deepEqual(result.notes, [
      'the upstream is never called: module handler exports requestHandler, which answers on a route without a service; the upstream URL given is not used',
      'responseModifier of module after never runs: a route without a service has no upstream',
    ]);
  });

  it('reports the upstream URL a fetchUpstream chose', async () => {
    const result = await runModuleTest({
      modules: [{ name: 'lb', source: `export function fetchUpstream(ctx: any) { return ctx.service().urls[0] + '/chosen'; }` }],
      request: { path: '/x' },
      upstream: { status: 204 },
    });
    assert.match(result.upstream!.url, /\/chosen\/x$/);
    assert.equal(result.response.status, 204);
  });

  it('refuses a module that does not compile, naming line and column', async () => {
    await assert.rejects(
      runModuleTest({ modules: [{ name: 'broken', source: 'export const x = (;' }] }),
      (err: Error) => err instanceof ModuleTestSetupError && /module broken: 1:19/.test(err.message),
    );
  });

  it('gives module errors as log lines with the module source line', async () => {
    const result = await runModuleTest({
      modules: [{ name: 'fails', source: `export function requestHandler(ctx: any) {\n  throw new Error('nope');\n}` }],
      upstream: null,
    });
    assert.equal(result.response.status, 500);
    const line = result.logs.find((l) => l.msg === 'module function failed');
    assert.ok(line);
    assert.match(String(line.stack), /dgate:\/\/default\/fails\.ts:2:/);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channels, type HookEvent } from '../observability/channels.js';
import { HookRunner, isHookTimeout, MODULE_TIME, type ModuleTime, type RouteScope } from './hook-runner.js';
import type { HookFn } from './hooks.js';

interface Ctx {
  calls: string[];
  answered: boolean;
  [MODULE_TIME]?: ModuleTime;
}

const stop = (ctx: Ctx) => ctx.answered;
const newCtx = (): Ctx => ({ calls: [], answered: false });

function scopeOf(fns: Record<string, HookFn>): RouteScope {
  const origins = new Map(Object.entries(fns).map(([module, fn]) => [fn, { module, hook: 'requestModifier' }]));
  return { id: 1, namespace: 'ns', name: 'r', modules: Object.keys(fns), hooks: { origins, set: { logs: false } } };
}

/** the hook events published while `fn` runs (and until its promise settles) */
async function events(fn: () => unknown): Promise<HookEvent[]> {
  const seen: HookEvent[] = [];
  const onHook = (e: HookEvent) => seen.push(e);
  channels.hook.subscribe(onHook);
  try {
    await fn();
  } finally {
    channels.hook.unsubscribe(onHook);
  }
  return seen;
}

test('chain: synchronous functions run in order and return undefined (no promise), each reported once', async () => {
  const runner = new HookRunner(1000);
  const a: HookFn = (ctx: Ctx) => ctx.calls.push('a');
  const b: HookFn = (ctx: Ctx) => ctx.calls.push('b');
  const ctx = newCtx();
  ctx[MODULE_TIME] = { moduleMs: 0 };
  const seen = await events(() => assert.equal(runner.chain(scopeOf({ a, b }), [a, b], ctx, stop), undefined));
  assert.deepEqual(ctx.calls, ['a', 'b']);
  assert.deepEqual(seen.map((e) => [e.namespace, e.route, e.module, e.hook, e.failed]), [
    ['ns', 'r', 'a', 'requestModifier', false],
    ['ns', 'r', 'b', 'requestModifier', false],
  ]);
  assert.ok(seen.every((e) => e.durationMs >= 0));
  assert.ok(ctx[MODULE_TIME]!.moduleMs >= 0 && ctx[MODULE_TIME]!.moduleMs === seen[0]!.durationMs + seen[1]!.durationMs, 'the module time is the sum of the calls');
});

test('chain: an asynchronous function makes it a promise; the next ones run after it settled', async () => {
  const runner = new HookRunner(1000);
  const a: HookFn = async (ctx: Ctx) => {
    await new Promise((resolve) => setImmediate(resolve));
    ctx.calls.push('a');
  };
  const b: HookFn = (ctx: Ctx) => ctx.calls.push('b');
  const ctx = newCtx();
  const p = runner.chain(scopeOf({ a, b }), [a, b], ctx, stop);
  assert.ok(p instanceof Promise);
  assert.deepEqual(ctx.calls, [], 'b waits for a');
  await p;
  assert.deepEqual(ctx.calls, ['a', 'b']);
});

test('chain: stops once stop(ctx) is true (a function answered)', async () => {
  const runner = new HookRunner(1000);
  const a: HookFn = (ctx: Ctx) => {
    ctx.calls.push('a');
    ctx.answered = true;
  };
  const b: HookFn = (ctx: Ctx) => ctx.calls.push('b');
  const ctx = newCtx();
  assert.equal(runner.chain(scopeOf({ a, b }), [a, b], ctx, stop), undefined);
  assert.deepEqual(ctx.calls, ['a']);
  // and after an asynchronous one
  const c: HookFn = async (ctx: Ctx) => {
    ctx.answered = true;
  };
  const ctx2 = newCtx();
  await runner.chain(scopeOf({ c, b }), [c, b], ctx2, stop);
  assert.deepEqual(ctx2.calls, []);
});

test('chain: a synchronous throw is thrown (reported as failed); a rejection rejects the promise', async () => {
  const runner = new HookRunner(1000);
  const boom: HookFn = () => {
    throw new Error('sync boom');
  };
  const never: HookFn = (ctx: Ctx) => ctx.calls.push('never');
  const ctx = newCtx();
  const seen = await events(() => assert.throws(() => runner.chain(scopeOf({ boom, never }), [boom, never], ctx, stop), /sync boom/));
  assert.deepEqual(ctx.calls, []);
  assert.deepEqual(seen.map((e) => [e.module, e.failed]), [['boom', true]]);
  const rejects: HookFn = async () => {
    throw new Error('async boom');
  };
  const ctx2 = newCtx();
  const seen2 = await events(() => assert.rejects(runner.chain(scopeOf({ rejects, never }), [rejects, never], ctx2, stop)!, /async boom/));
  assert.deepEqual(ctx2.calls, []);
  assert.deepEqual(seen2.map((e) => [e.module, e.failed]), [['rejects', true]]);
});

test('chain: a function that does not settle within the budget rejects with the hook timeout', async () => {
  const runner = new HookRunner(20);
  const hangs: HookFn = () => new Promise(() => {});
  const never: HookFn = (ctx: Ctx) => ctx.calls.push('never');
  const ctx = newCtx();
  // the runner's deadline check does not keep a process alive (a gateway's listener does): this timer does, until it fired
  const alive = setInterval(() => {}, 1000);
  try {
    await assert.rejects(runner.chain(scopeOf({ hangs, never }), [hangs, never], ctx, stop)!, (err) => isHookTimeout(err));
  } finally {
    clearInterval(alive);
  }
  assert.deepEqual(ctx.calls, []);
});

test('run: the callback form keeps the same order, early stop and error rules', async () => {
  const runner = new HookRunner(1000);
  const a: HookFn = async (ctx: Ctx) => ctx.calls.push('a');
  const b: HookFn = (ctx: Ctx) => {
    ctx.calls.push('b');
    throw new Error('b failed');
  };
  const c: HookFn = (ctx: Ctx) => ctx.calls.push('c');
  const ctx = newCtx();
  const err = await new Promise<unknown>((resolve, reject) => runner.run(scopeOf({ a, b, c }), [a, b, c], ctx, () => ctx.answered, () => reject(new Error('onDone called')), resolve));
  assert.match(String(err), /b failed/);
  assert.deepEqual(ctx.calls, ['a', 'b']);
});

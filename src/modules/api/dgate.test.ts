import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as dgateApi from './dgate.js';
import { createTestHost } from './test-host.js';

const host = await createTestHost();
const d = dgateApi.create(host) as Record<string, any>;

const elapsed = async (fn: () => Promise<unknown>): Promise<number> => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};

test('name is dgate; the other imports are sub-objects', () => {
  assert.equal(dgateApi.name, 'dgate');
  for (const sub of ['http', 'crypto', 'state', 'storage', 'util', 'secrets']) assert.equal(typeof d[sub], 'object', sub);
  assert.equal(typeof d.http.fetch, 'function');
  assert.equal(d.crypto.sha256('abc', 'hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(d.secrets.getSecret('api-key'), 's3cr3t');
});

test('sleep takes seconds with fractions (0.05 s waits 50 ms) and returns a promise', async () => {
  const started = performance.now();
  const p = d.sleep(0.05);
  assert.ok(p instanceof Promise);
  await p;
  // timed from the call: the wait started there
  const ms = performance.now() - started;
  assert.ok(ms >= 45, `waited ${ms} ms`);
  assert.equal(await d.sleep(0), undefined);
});

test('sleep takes duration strings: "30ms", "0.04s"', async () => {
  assert.ok((await elapsed(() => d.sleep('30ms'))) >= 25);
  assert.ok((await elapsed(() => d.asyncSleep('0.04s'))) >= 35);
});

test('sleep does not block: other work runs while it waits', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  await d.sleep(0.06);
  clearInterval(timer);
  assert.ok(ticks > 0, `only ${ticks} ticks ran during the sleep`);
});

test('sleep rejects negative, malformed and too long durations', async () => {
  await assert.rejects(d.sleep(-1), RangeError);
  await assert.rejects(d.sleep('later'), { message: 'invalid sleep duration: "later"' });
  await assert.rejects(d.sleep({}), TypeError);
  await assert.rejects(d.sleep(30 * 24 * 3600), /sleep duration too long/);
});

test('fail(msg) throws Error(msg)', () => {
  assert.throws(() => d.fail('boom'), (err: unknown) => err instanceof Error && err.message === 'boom');
});

test('retry resolves with the first result that does not throw, calling fn with the attempt number', async () => {
  const attempts: number[] = [];
  const result = await d.retry(5, async (attempt: number) => {
    attempts.push(attempt);
    if (attempt < 3) throw new Error(`attempt ${attempt}`);
    return 'ok';
  });
  assert.equal(result, 'ok');
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.equal(await d.retry(1, () => 42), 42);
});

test('retry rejects with the last error after n attempts', async () => {
  let calls = 0;
  await assert.rejects(
    d.retry(3, () => {
      calls++;
      throw new Error(`failure ${calls}`);
    }),
    { message: 'failure 3' },
  );
  assert.equal(calls, 3);
});

test('retry waits `delay` between attempts (not after the last one)', async () => {
  const ms = await elapsed(() => d.retry(3, () => Promise.reject(new Error('no')), { delay: '30ms' }).catch(() => {}));
  assert.ok(ms >= 55, `took ${ms} ms`);
  assert.ok(ms < 1000);
  const once = await elapsed(() => d.retry(1, () => Promise.reject(new Error('no')), { delay: 2 }).catch(() => {}));
  assert.ok(once < 1000, `a single failed attempt still waited ${once} ms`);
});

test('retry refuses bad arguments', async () => {
  await assert.rejects(d.retry(0, () => 1), RangeError);
  await assert.rejects(d.retry(2.5, () => 1), RangeError);
  await assert.rejects(d.retry(2, 'fn'), TypeError);
  await assert.rejects(d.retry(2, () => 1, { delay: -1 }), RangeError);
});

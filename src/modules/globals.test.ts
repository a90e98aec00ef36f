import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as wait } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { createTestHost } from './api/test-host.js';
import { createGlobals } from './globals.js';

const host = await createTestHost();

/** A fresh context over the curated globals, as the module loader makes one. */
function context(): vm.Context {
  return vm.createContext(createGlobals(host));
}
const run = (ctx: vm.Context, code: string): any => vm.runInContext(code, ctx);
const logsSince = (n: number) => host.logs.slice(n);

const PRESENT = [
  'console', 'fetch', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'atob', 'btoa',
  'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate',
  'queueMicrotask', 'structuredClone', 'crypto', 'Headers', 'Request', 'Response', 'FormData',
  'AbortController', 'AbortSignal', 'Blob', 'performance',
];

test('every curated global is present', () => {
  const ctx = context();
  for (const name of PRESENT) assert.notEqual(run(ctx, `typeof ${name}`), 'undefined', name);
});

test('process, require, module, Buffer, global and other Node-only globals are absent', () => {
  const ctx = context();
  for (const name of ['process', 'require', 'module', 'exports', 'Buffer', 'global', '__dirname', 'fs']) {
    assert.equal(run(ctx, `typeof ${name}`), 'undefined', name);
  }
  assert.equal(run(ctx, 'typeof process === "undefined"'), true);
  // the language's own globals come from the context itself
  assert.equal(run(ctx, 'typeof Promise + typeof JSON + typeof globalThis'), 'functionobjectobject');
});

test('console.log/info log at info, debug at debug, warn and error at their level, formatted by util.format', () => {
  const n = host.logs.length;
  run(context(), `
    console.log('count %d', 3, { a: { b: [1, 2] } });
    console.info('info', 'two');
    console.debug('dbg');
    console.warn('careful');
    console.error(new Error('bad').message);
  `);
  assert.deepEqual(logsSince(n), [
    { level: 'info', module: null, message: 'count 3 { a: { b: [ 1, 2 ] } }' },
    { level: 'info', module: null, message: 'info two' },
    { level: 'debug', module: null, message: 'dbg' },
    { level: 'warn', module: null, message: 'careful' },
    { level: 'error', module: null, message: 'bad' },
  ]);
});

test('Web globals work inside the context', () => {
  const out = run(context(), `({
    url: new URL('/p?q=1', 'http://h.example').href,
    query: new URLSearchParams({ a: '1', b: 'x y' }).toString(),
    text: new TextDecoder().decode(new TextEncoder().encode('héllo')),
    b64: btoa('hi') + ' ' + atob('aGk='),
    clone: structuredClone({ n: [1] }).n[0],
    headers: new Headers({ 'X-A': '1' }).get('x-a'),
    aborted: (() => { const c = new AbortController(); c.abort(); return c.signal.aborted; })(),
    blob: new Blob(['abc']).size,
    form: (() => { const f = new FormData(); f.set('k', 'v'); return f.get('k'); })(),
    request: new Request('http://h.example/x', { method: 'POST' }).method,
    perf: typeof performance.now(),
    perfKeys: Object.keys(performance).join(),
  })`);
  assert.deepEqual({ ...out }, {
    url: 'http://h.example/p?q=1',
    query: 'a=1&b=x+y',
    text: 'héllo',
    b64: 'aGk= hi',
    clone: 1,
    headers: '1',
    aborted: true,
    blob: 3,
    form: 'v',
    request: 'POST',
    perf: 'number',
    perfKeys: 'now',
  });
});

test('Response is usable for building answers: new Response(…).json()', async () => {
  const value = await run(context(), `new Response('{"a":1}', { status: 201 }).json()`);
  assert.deepEqual({ ...value }, { a: 1 });
});

test('crypto: getRandomValues fills an array of the context, randomUUID, subtle.digest', async () => {
  const ctx = context();
  const filled = run(ctx, 'const arr = new Uint8Array(16); crypto.getRandomValues(arr) === arr && arr.some((b) => b !== 0)');
  assert.equal(filled, true);
  assert.match(run(ctx, 'crypto.randomUUID()'), /^[0-9a-f-]{36}$/);
  const hex = await run(ctx, `crypto.subtle.digest('SHA-256', new Uint8Array([97, 98, 99]))
    .then((d) => [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join(''))`);
  assert.equal(hex, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('fetch is dgate/http\'s: it sends User-Agent DGate-Client/1.0', async () => {
  const server = createServer((req, res) => res.end(req.headers['user-agent']));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    assert.equal(await run(context(), `fetch(${JSON.stringify(url)}).then((r) => r.text())`), 'DGate-Client/1.0');
  } finally {
    server.close();
  }
});

/** Polls `done` until it holds, failing after 5 s (a loaded machine runs timers late). */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await wait(5);
  }
}

test('setTimeout passes its arguments and returns a number; clearTimeout cancels', async () => {
  const ctx = context();
  run(ctx, `
    globalThis.got = [];
    globalThis.id = setTimeout((a, b) => got.push(a + b), 5, 1, 2);
    const cancelled = setTimeout(() => got.push('cancelled ran'), 5);
    clearTimeout(cancelled);
    clearTimeout(undefined);
  `);
  assert.equal(typeof run(ctx, 'id'), 'number');
  await wait(40);
  assert.deepEqual([...run(ctx, 'got')], [3]);
});

test('setInterval repeats until clearInterval; setImmediate runs soon and clearImmediate cancels', async () => {
  const ctx = context();
  run(ctx, `
    globalThis.ticks = 0;
    globalThis.timer = setInterval(() => { if (++ticks === 3) clearInterval(timer); }, 2);
    globalThis.immediate = 'no';
    setImmediate(() => { immediate = 'yes'; });
    clearImmediate(setImmediate(() => { immediate = 'cancelled ran'; }));
  `);
  await until(() => run(ctx, 'ticks') === 3 && run(ctx, 'immediate') === 'yes');
  await wait(20); // a fourth tick would come now if clearInterval had not stopped it
  assert.equal(run(ctx, 'ticks'), 3);
  assert.equal(run(ctx, 'immediate'), 'yes');
});

test('a timer callback that throws is logged at error and the process carries on', async () => {
  const n = host.logs.length;
  run(context(), `
    setTimeout(() => { throw new Error('timer exploded'); }, 1);
    setImmediate(() => { throw new TypeError('immediate exploded'); });
    setTimeout(async () => { throw new Error('async timer rejected'); }, 1);
    queueMicrotask(() => { throw new Error('microtask exploded'); });
    const interval = setInterval(() => { clearInterval(interval); throw 'a string'; }, 1);
  `);
  await until(() => logsSince(n).length >= 5);
  const logged = logsSince(n);
  assert.equal(logged.length, 5);
  for (const l of logged) assert.equal(l.level, 'error');
  const messages = logged.map((l) => l.message).join('\n');
  assert.match(messages, /uncaught error in setTimeout callback: Error: timer exploded\n\s+at /);
  assert.match(messages, /uncaught error in setImmediate callback: TypeError: immediate exploded/);
  assert.match(messages, /uncaught error in setTimeout callback: Error: async timer rejected/);
  assert.match(messages, /uncaught error in queueMicrotask callback: Error: microtask exploded/);
  assert.match(messages, /uncaught error in setInterval callback: 'a string'/);
});

test('timer callbacks must be functions (no string eval)', () => {
  const ctx = context();
  for (const fn of ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask']) {
    assert.throws(() => run(ctx, `${fn}('1 + 1', 1)`), { message: `${fn}: callback must be a function` });
  }
});

test('pending module timers do not keep the process alive', async () => {
  // A child process that schedules a 30 s timeout and interval in a context must exit at once.
  const globalsUrl = pathToFileURL(new URL('./globals.js', import.meta.url).pathname).href;
  const script = `
    import vm from 'node:vm';
    import { createGlobals } from ${JSON.stringify(globalsUrl)};
    const host = { namespace: 'n', state() {}, write() {}, log() {}, fetchTimeoutMs: 1000, cache: new Map() };
    vm.runInContext('setTimeout(() => {}, 30000); setInterval(() => {}, 30000)', vm.createContext(createGlobals(host)));
  `;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 }, (err) => (err ? reject(err) : resolve()));
  });
  assert.ok(performance.now() - started < 10_000);
});

test('each call makes a separate scope: globals set by one context are not seen by another', () => {
  const a = context();
  const b = context();
  run(a, 'globalThis.mine = 1; console.log = () => {}');
  assert.equal(run(b, 'typeof mine'), 'undefined');
  const n = host.logs.length;
  run(b, 'console.log("still logged")');
  assert.equal(logsSince(n)[0]?.message, 'still logged');
});

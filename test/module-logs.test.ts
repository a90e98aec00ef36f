/**
 * Module log lines through the admin API, with the proxy in the gateway's own process
 * (proxy.workers: 0): console output and uncaught errors of module code appear in
 * GET /api/v1/logs with namespace, module, route, request id and level; the filters; the
 * event stream; dgate-cli logs; and a module that floods its log.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { cli } from './support/cli-run.js';
import { openEventStream } from './support/event-stream.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { closeGateway, scope, type Scope } from './support/modules-harness.js';
import { until } from './support/until.js';

/** Logs one line per level (debug … error) naming the path parameter; `throw` makes it throw. */
const LOGGER = `export function requestHandler(ctx: any) {
  const what = ctx.pathParam('what');
  console.debug('debug', what);
  console.log('info', what);
  console.warn('warn', what);
  console.error('error', what, { n: 1 });
  if (what === 'throw') throw new Error('thrown by ' + what);
  ctx.response().json({ ok: what });
}
`;

const get = async (gw: TestGateway, query: string) => {
  const res = await gw.admin('GET', `/api/v1/logs${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { count: number; data: any[]; dropped: any[] };
};

/** Waits until the query answers a line that passes `test` (lines reach the buffer within ~100 ms). */
async function logged(gw: TestGateway, query: string, test: (line: any) => boolean, what: string): Promise<any> {
  let found: any;
  await until(async () => (found = (await get(gw, query)).data.find(test)) !== undefined, what);
  return found;
}

describe('module logs with the proxy in the main process', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  let a: Scope;
  let b: Scope;

  before(async () => {
    gw = await startTestGateway();
    a = await scope(gw, 'logs-a');
    await a.module('m', LOGGER);
    await a.module('other', LOGGER);
    await a.route({ name: 'r1', paths: ['/r1/{what}'], methods: ['GET'], modules: ['m'] });
    await a.route({ name: 'r2', paths: ['/r2/{what}'], methods: ['GET'], modules: ['m'] });
    await a.route({ name: 'o', paths: ['/o/{what}'], methods: ['GET'], modules: ['other'] });
    b = await scope(gw, 'logs-b');
    await b.module('m', LOGGER);
    await b.route({ name: 'r1', paths: ['/r1/{what}'], methods: ['GET'], modules: ['m'] });
  });
  after(() => closeGateway(gw));

  it('console.debug/log/warn/error of a module appear with namespace, module, route, request id and level', async () => {
    assert.equal((await a.call('/r1/fields', { headers: { 'x-request-id': 'rid-fields' } })).status, 200);
    await logged(gw, '?namespace=logs-a', (l) => l.requestId === 'rid-fields' && l.level === 'error', 'the error line of rid-fields');
    const lines = (await get(gw, '?namespace=logs-a')).data.filter((l) => l.requestId === 'rid-fields');
    assert.deepEqual(
      lines.map((l) => [l.namespace, l.module, l.route, l.requestId, l.level, l.message]),
      [
        ['logs-a', 'm', 'r1', 'rid-fields', 'debug', 'debug fields'],
        ['logs-a', 'm', 'r1', 'rid-fields', 'info', 'info fields'],
        ['logs-a', 'm', 'r1', 'rid-fields', 'warn', 'warn fields'],
        ['logs-a', 'm', 'r1', 'rid-fields', 'error', 'error fields { n: 1 }'],
      ],
    );
    for (const l of lines) {
      assert.equal(typeof l.seq, 'number');
      assert.ok(Math.abs(Date.parse(l.time) - Date.now()) < 60_000, l.time);
      assert.equal(l.pid, process.pid, 'logged by this process (workers: 0)');
    }
    assert.ok(lines.every((l, i) => i === 0 || l.seq > lines[i - 1].seq), 'in order');
  });

  it('a line logged for a request sent without an X-Request-Id carries the id the gateway gave it (returned to the client)', async () => {
    const answer = await a.call('/r1/no-id');
    const given = answer.headers['x-request-id'];
    assert.equal(typeof given, 'string');
    const line = await logged(gw, '?namespace=logs-a', (l) => l.message === 'info no-id', 'info no-id');
    assert.equal(line.requestId, given);
  });

  it('an uncaught error of a module is an error line of that module, with its message and stack', async () => {
    assert.equal((await a.call('/r2/throw', { headers: { 'x-request-id': 'rid-throw' } })).status, 500);
    const line = await logged(gw, '?namespace=logs-a', (l) => l.requestId === 'rid-throw' && /uncaught/.test(l.message), 'the uncaught error line');
    assert.equal(line.module, 'm');
    assert.equal(line.route, 'r2');
    assert.equal(line.level, 'error');
    assert.match(line.message, /uncaught error in requestHandler/);
    assert.match(line.message, /thrown by throw/);
    assert.match(line.message, /dgate:\/\/logs-a\/m\.ts:\d+/);
  });

  it('an error thrown in a timer callback of a module is an error line of that module, with the route and request that set the timer', async () => {
    await a.module('timer', `export function requestHandler(ctx: any) {\n  setTimeout(() => { throw new Error('late failure'); }, 1);\n  ctx.response().json({});\n}\n`);
    await a.route({ name: 'timer', paths: ['/timer'], methods: ['GET'], modules: ['timer'] });
    await a.call('/timer', { headers: { 'x-request-id': 'rid-timer' } });
    const line = await logged(gw, '?namespace=logs-a&module=timer', (l) => /late failure/.test(l.message), 'the timer error');
    assert.equal(line.level, 'error');
    assert.deepEqual([line.route, line.requestId], ['timer', 'rid-timer']);
    assert.match(line.message, /uncaught error in setTimeout callback/);
  });

  it('lines logged after an await, in a promise callback or a timer the hook started carry its route and request id', async () => {
    await a.module(
      'later',
      `async function steps() {
  console.log('before await');
  await new Promise((r) => setTimeout(r, 5));
  console.log('after a timer await');
  await fetch('http://127.0.0.1:2/').catch(() => undefined);
  console.log('after a fetch await');
  setTimeout(() => console.log('in a timer callback'), 1);
}
export function requestHandler(ctx: any) {
  return steps().then(() => {
    console.warn('in a then callback');
    ctx.response().json({ later: true });
  });
}
`,
    );
    await a.route({ name: 'later', paths: ['/later'], methods: ['GET'], modules: ['later'] });
    const res = await a.call('/later', { headers: { 'x-request-id': 'rid-later' } });
    assert.deepEqual([res.status, res.json()], [200, { later: true }]);
    const expected = ['before await', 'after a timer await', 'after a fetch await', 'in a then callback', 'in a timer callback'];
    await until(async () => (await get(gw, '?namespace=logs-a&module=later')).data.length === expected.length, 'five lines of module later');
    const lines = (await get(gw, '?namespace=logs-a&module=later')).data;
    assert.deepEqual(
      lines.map((l) => [l.message, l.route, l.requestId]).sort(),
      expected.map((m) => [m, 'later', 'rid-later']).sort(),
    );
  });

  it('a line names the module whose code called console: a helper imported from another module logs as that module', async () => {
    await a.module('helper', `export function audit(what: string) {\n  console.info('audit', what);\n}\n`);
    await a.module('uses', `import { audit } from './helper';\nexport function requestHandler(ctx: any) {\n  audit('x');\n  globalThis.console.log('through globalThis');\n  ctx.response().json({});\n}\n`);
    await a.route({ name: 'uses', paths: ['/uses'], methods: ['GET'], modules: ['uses'] });
    await a.call('/uses', { headers: { 'x-request-id': 'rid-uses' } });
    const audit = await logged(gw, '?namespace=logs-a&route=uses', (l) => l.message === 'audit x', 'the helper line');
    assert.deepEqual([audit.module, audit.route, audit.requestId], ['helper', 'uses', 'rid-uses']);
    const global = await logged(gw, '?namespace=logs-a&route=uses', (l) => l.message === 'through globalThis', 'the globalThis.console line');
    assert.equal(global.module, 'uses', 'told from the call stack');
  });

  it('a module may declare a console of its own (its calls are then its own business)', async () => {
    await a.module('own', `const console = { log: (..._: unknown[]) => {} };\nexport function requestHandler(ctx: any) {\n  console.log('not kept');\n  ctx.response().json({ own: true });\n}\n`);
    await a.route({ name: 'own', paths: ['/own'], methods: ['GET'], modules: ['own'] });
    const res = await a.call('/own');
    assert.deepEqual([res.status, res.json()], [200, { own: true }]);
  });

  it('filters by namespace, module, route and level (that level and above)', async () => {
    await a.call('/r1/flt', { headers: { 'x-request-id': 'flt-a1' } });
    await a.call('/r2/flt', { headers: { 'x-request-id': 'flt-a2' } });
    await a.call('/o/flt', { headers: { 'x-request-id': 'flt-ao' } });
    await b.call('/r1/flt', { headers: { 'x-request-id': 'flt-b1' } });
    for (const id of ['flt-a1', 'flt-a2', 'flt-ao', 'flt-b1']) await logged(gw, '?limit=10000', (l) => l.requestId === id && l.level === 'error', id);
    const ids = async (q: string) => new Set((await get(gw, `${q}&limit=10000`)).data.map((l) => l.requestId).filter((id) => id?.startsWith('flt-')));

    assert.deepEqual(await ids('?namespace=logs-b'), new Set(['flt-b1']));
    assert.deepEqual(await ids('?namespace=logs-a'), new Set(['flt-a1', 'flt-a2', 'flt-ao']));
    assert.deepEqual(await ids('?namespace=logs-a&module=other'), new Set(['flt-ao']));
    assert.deepEqual(await ids('?module=m'), new Set(['flt-a1', 'flt-a2', 'flt-b1']));
    assert.deepEqual(await ids('?namespace=logs-a&route=r2'), new Set(['flt-a2']));
    assert.deepEqual(await ids('?route=r1'), new Set(['flt-a1', 'flt-b1']));

    const levels = async (q: string) => (await get(gw, `${q}&namespace=logs-b&limit=10000`)).data.filter((l) => l.requestId === 'flt-b1').map((l) => l.level);
    assert.deepEqual(await levels('?level=debug'), ['debug', 'info', 'warn', 'error']);
    assert.deepEqual(await levels('?level=info'), ['info', 'warn', 'error']);
    assert.deepEqual(await levels('?level=warn'), ['warn', 'error']);
    assert.deepEqual(await levels('?level=error'), ['error']);
  });

  it('limit answers the newest N lines, oldest first; since takes a time or a duration back from now', async () => {
    await b.call('/r1/first', { headers: { 'x-request-id': 'since-1' } });
    const first = await logged(gw, '?namespace=logs-b', (l) => l.requestId === 'since-1' && l.level === 'error', 'since-1');
    await until(() => Date.now() > Date.parse(first.time) + 2, 'the clock to move past the first line');
    await b.call('/r1/second', { headers: { 'x-request-id': 'since-2' } });
    const second = await logged(gw, '?namespace=logs-b', (l) => l.requestId === 'since-2' && l.level === 'error', 'since-2');

    const newest = (await get(gw, '?namespace=logs-b&limit=2')).data;
    assert.deepEqual(newest.map((l) => [l.requestId, l.level]), [['since-2', 'warn'], ['since-2', 'error']]);
    assert.equal((await get(gw, '?namespace=logs-b&limit=0')).count, 0);

    const since = async (value: string) => new Set((await get(gw, `?namespace=logs-b&limit=10000&since=${encodeURIComponent(value)}`)).data.map((l) => l.requestId));
    const afterFirst = await since(new Date(Date.parse(first.time) + 1).toISOString());
    assert.ok(afterFirst.has('since-2') && !afterFirst.has('since-1'), [...afterFirst].join());
    const atFirst = await since(first.time);
    assert.ok(atFirst.has('since-1') && atFirst.has('since-2'));
    assert.ok((await since('1h')).has('since-1'));
    assert.equal((await since(new Date(Date.now() + 60_000).toISOString())).size, 0);
    assert.ok(Date.parse(second.time) > Date.parse(first.time));

    const afterSeq = (await get(gw, `?namespace=logs-b&after=${first.seq}&limit=10000`)).data;
    assert.ok(afterSeq.length > 0 && afterSeq.every((l) => l.seq > first.seq));
  });

  it('refuses bad filter values with a 400 naming the field', async () => {
    for (const [query, field] of [
      ['level=xyz', 'level'],
      ['since=abc', 'since'],
      ['since=-5m', 'since'],
      ['limit=-1', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=10001', 'limit'],
      ['after=x', 'after'],
      ['follow=maybe', 'follow'],
    ]) {
      const res = await gw.admin('GET', `/api/v1/logs?${query}`);
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'DG_ERR_VALIDATION');
      assert.ok(res.body.error.startsWith(`${field}:`), `${query}: ${res.body.error}`);
    }
  });

  it('follows as server-sent events: the backlog, then a line logged after subscribing', async () => {
    await a.call('/o/backlog', { headers: { 'x-request-id': 'sse-backlog' } });
    await logged(gw, '?namespace=logs-a&module=other', (l) => l.requestId === 'sse-backlog' && l.level === 'error', 'the backlog line');
    const stream = await openEventStream(`${gw.adminUrl}/api/v1/logs?namespace=logs-a&module=other&level=warn&limit=1`);
    try {
      assert.equal(stream.status, 200);
      assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
      const backlog = await stream.next((l) => l.requestId === 'sse-backlog', 'the backlog line');
      assert.equal(backlog.level, 'error');
      assert.equal(stream.events[0]!.id, String(backlog.seq));

      await a.call('/o/live', { headers: { 'x-request-id': 'sse-live' } });
      await a.call('/r1/live', { headers: { 'x-request-id': 'sse-live-other-module' } });
      const live = await stream.next((l) => l.requestId === 'sse-live' && l.level === 'error', 'the line logged after subscribing');
      assert.deepEqual([live.namespace, live.module, live.route, live.message], ['logs-a', 'other', 'o', 'error live { n: 1 }']);
      const warn = await stream.next((l) => l.requestId === 'sse-live' && l.level === 'warn', 'the warn line');
      assert.ok(warn.seq < live.seq);
      // the filters hold on the stream: no info line, no other module
      assert.ok(stream.json.every((l) => l.module === 'other' && (l.level === 'warn' || l.level === 'error')), JSON.stringify(stream.json));
    } finally {
      stream.close();
    }
  });

  it('a stream resumes after Last-Event-ID', async () => {
    await b.call('/r1/resume', { headers: { 'x-request-id': 'resume' } });
    const line = await logged(gw, '?namespace=logs-b', (l) => l.requestId === 'resume' && l.level === 'warn', 'resume warn');
    const stream = await openEventStream(`${gw.adminUrl}/api/v1/logs?namespace=logs-b`, { 'last-event-id': String(line.seq) });
    try {
      const next = await stream.next((l) => l.requestId === 'resume', 'the line after the last event id');
      assert.equal(next.level, 'error');
      assert.ok(stream.json.every((l) => l.seq > line.seq));
    } finally {
      stream.close();
    }
  });

  it('dgate-cli logs prints the lines (JSON lines when not on a terminal, text with -o text), filters as flags', async () => {
    await b.call('/r1/cli', { headers: { 'x-request-id': 'cli-1' } });
    await logged(gw, '?namespace=logs-b', (l) => l.requestId === 'cli-1' && l.level === 'error', 'cli-1');

    const json = await cli(['logs', '--namespace', 'logs-b', '--level', 'warn', '--limit', '2'], { admin: gw.adminUrl });
    assert.equal(json.code, 0, json.stderr);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.requestId, l.level, l.module, l.route]), [['cli-1', 'warn', 'm', 'r1'], ['cli-1', 'error', 'm', 'r1']]);

    const text = await cli(['logs', '-n', 'logs-b', '-m', 'm', '-r', 'r1', '-l', 'error', '--since', '10m', '--limit', '1', '-o', 'text'], { admin: gw.adminUrl });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z error logs-b\/m route=r1 request=cli-1  error cli \{ n: 1 \}\n$/);

    const bad = await cli(['logs', '--level', 'xyz'], { admin: gw.adminUrl });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /400 error from server: level: /);
    const usage = await cli(['logs', '--limit', '-1'], { admin: gw.adminUrl });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--limit/);
  });

  it('dgate-cli logs -f prints the backlog, then new lines until interrupted (exit 0)', async () => {
    await b.call('/r1/follow-before', { headers: { 'x-request-id': 'follow-before' } });
    await logged(gw, '?namespace=logs-b', (l) => l.requestId === 'follow-before' && l.level === 'error', 'follow-before');
    const interrupt = new AbortController();
    let out = '';
    const running = cli(['logs', '-f', '-n', 'logs-b', '-l', 'error', '--limit', '1'], { admin: gw.adminUrl, interrupt: interrupt.signal, onStdout: (s) => (out = s) });
    await until(() => out.includes('"follow-before"'), 'the backlog line on stdout');
    await b.call('/r1/follow-after', { headers: { 'x-request-id': 'follow-after' } });
    await until(() => out.includes('"follow-after"'), 'the new line on stdout');
    interrupt.abort();
    const result = await running;
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.requestId, l.level]), [['follow-before', 'error'], ['follow-after', 'error']]);
  });
});

describe('a module that logs in a tight loop (proxy in the main process)', { timeout: 120_000 }, () => {
  const BUFFER = 50;
  const RATE = 20;
  let gw: TestGateway;
  let s: Scope;

  before(async () => {
    gw = await startTestGateway({ proxy: { module_logs: { buffer_lines: BUFFER, rate_limit: RATE } } });
    s = await scope(gw, 'flood');
    // /start floods from a timer (the event loop stays free between bursts); /calm logs one line
    await s.module('flood', `let n = 0;\nlet started = false;\nexport function requestHandler(ctx: any) {\n  if (!started) { started = true; setInterval(() => { for (let i = 0; i < 500; i++) console.log('flood', n++); }, 1); }\n  ctx.response().json({ n });\n}\n`);
    await s.module('calm', `export function requestHandler(ctx: any) {\n  console.log('calm');\n  ctx.response().json({ calm: true });\n}\n`);
    await s.route({ name: 'start', paths: ['/start'], methods: ['GET'], modules: ['flood'] });
    await s.route({ name: 'calm', paths: ['/calm'], methods: ['GET'], modules: ['calm'] });
  });
  after(() => closeGateway(gw));

  it('keeps at most buffer_lines lines of it, says how many were dropped, and other routes keep answering', async () => {
    assert.equal((await s.call('/start')).status, 200);
    // wait until the flood has run over its rate limit many times over
    await until(async () => (await s.call('/start')).json().n > 20_000, 'the module to log 20000 lines', 30_000);
    // meanwhile: other routes and the admin API answer, and the other module's lines are kept
    for (let i = 0; i < 5; i++) assert.equal((await s.call('/calm', { headers: { 'x-request-id': `calm-${i}` } })).status, 200);
    await logged(gw, '?namespace=flood&module=calm', (l) => l.requestId === 'calm-4', 'the other module\'s line during the flood');

    const page = await get(gw, '?namespace=flood&module=flood&limit=10000');
    assert.ok(page.count <= BUFFER, `kept ${page.count} lines (buffer_lines ${BUFFER})`);
    const total = page.dropped.find((d) => d.module === 'flood');
    assert.ok(total !== undefined && total.dropped > 10_000, `dropped: ${JSON.stringify(page.dropped)}`);
    const marker = page.data.find((l) => l.dropped !== undefined);
    assert.ok(marker !== undefined, 'a line saying how many lines were dropped');
    assert.equal(marker.level, 'warn');
    assert.match(marker.message, new RegExp(`^${marker.dropped} lines dropped \\(.*${RATE} lines/s per module`));
    // the dropped line passes level and route filters: the lines it stands for could have matched
    assert.ok((await get(gw, '?namespace=flood&module=flood&level=error')).data.some((l) => l.dropped > 0));
    assert.equal((await get(gw, '?namespace=flood&module=calm&limit=10000')).dropped.length, 0, 'the calm module lost nothing');

    const printed = await cli(['logs', '-n', 'flood', '-m', 'flood', '--limit', '1'], { admin: gw.adminUrl });
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stderr, /^dgate-cli: logs: flood\/flood: \d+ lines dropped since the node started\n$/);
  });

  it('the event stream says how many lines were dropped too', async () => {
    const stream = await openEventStream(`${gw.adminUrl}/api/v1/logs?namespace=flood&module=flood&limit=0`);
    try {
      const marker = await stream.next((l) => l.dropped > 0, 'a dropped-lines event');
      assert.match(marker.message, /lines dropped/);
      await stream.next((l) => l.dropped === undefined && /^flood \d+$/.test(l.message), 'a flood line');
    } finally {
      stream.close();
    }
  });
});

describe('a follower that reads too slowly (proxy in the main process)', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  let s: Scope;

  before(async () => {
    gw = await startTestGateway({ proxy: { module_logs: { buffer_lines: 20, rate_limit: 100_000, max_line_length: 65_536 } } });
    s = await scope(gw, 'slow');
    // /big logs 60 kB lines from a timer, about 2.5 MB/s (what one process sends per second at most)
    await s.module('big', `let started = false;\nexport function requestHandler(ctx: any) {\n  if (!started) { started = true; const line = 'x'.repeat(60000); setInterval(() => { for (let i = 0; i < 5; i++) console.log(line); }, 5); }\n  ctx.response().json({});\n}\n`);
    await s.route({ name: 'big', paths: ['/big'], methods: ['GET'], modules: ['big'] });
  });
  after(() => closeGateway(gw));

  it('misses lines instead of holding them, then is told how many it missed', async () => {
    const newestSeq = async () => (await get(gw, '?namespace=slow&limit=1')).data[0]?.seq ?? 0;
    const from = await newestSeq();
    // a client that sends its request and then does not read
    const sock = net.connect(Number(new URL(gw.adminUrl).port), '127.0.0.1');
    sock.pause();
    try {
      sock.write('GET /api/v1/logs?follow=true&namespace=slow&limit=0 HTTP/1.1\r\nHost: admin\r\n\r\n');
      await s.call('/big');
      // 400 lines of 60 kB: far more than the connection's buffers and the 1 MiB allowed unsent
      await until(async () => (await newestSeq()) > from + 400, '400 big lines logged', 60_000, 50);
      await s.module('big', `export function requestHandler(ctx: any) { ctx.response().json({}); }\n`); // stops the flood (its timers go with the old version)
      let text = '';
      sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
      sock.resume();
      await until(() => /"message":"\d+ lines? dropped: this stream was read too slowly"/.test(text), 'the dropped-lines event', 30_000);
      const dropped = Number(/"message":"(\d+) lines? dropped: this stream/.exec(text)![1]);
      assert.ok(dropped > 0);
      assert.match(text, /"dropped":\d+/);
    } finally {
      sock.destroy();
    }
  });
});

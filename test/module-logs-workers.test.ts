/**
 * Module log lines from proxy worker processes (proxy.workers: 2): each worker sends its lines to
 * the primary, which serves them at GET /api/v1/logs (one view of the node) and streams them;
 * a module flooding its log in a worker loses lines (counted and said) while the node keeps
 * serving other routes, and the node keeps at most buffer_lines lines of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openEventStream } from './support/event-stream.js';
import { request } from './support/http.js';
import { b64 } from './support/modules-harness.js';
import { childPids, putJson, startServerProcess, stop, type ServerProcess } from './support/server-process.js';
import { until } from './support/until.js';

const BUFFER = 40;
const RATE = 30;
const HOST = 'app.logs.test';

let server: ServerProcess;

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await request(path, { headers });
  const text = await res.body.text();
  let body: any = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    /* a text answer (the gateway's 500) */
  }
  return { status: res.statusCode, body };
}

/** A proxied GET on a connection of its own (the kernel spreads those over the workers). */
async function proxied(path: string, requestId?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { host: HOST, connection: 'close' };
  if (requestId !== undefined) headers['x-request-id'] = requestId;
  return get(server.proxyUrl + path, headers);
}

async function logs(query: string): Promise<{ count: number; data: any[]; dropped: any[] }> {
  const res = await get(`${server.adminUrl}/api/v1/logs${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function put(kind: string, body: Record<string, unknown>): Promise<void> {
  assert.equal(await putJson(server.adminUrl, kind, { namespace: 'app', ...body }), 201, `PUT ${kind} ${String(body.name)}`);
}

before(async () => {
  server = await startServerProcess({
    // console_log_level error: the flood's console.log lines stay off stdout (the buffer keeps every level)
    yaml: (p) => `
log_level: warn
storage: { type: memory }
proxy:
  host: 127.0.0.1
  port: ${p.proxy}
  workers: 2
  console_log_level: error
  module_logs: { buffer_lines: ${BUFFER}, rate_limit: ${RATE} }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
  });
  assert.equal(await putJson(server.adminUrl, 'namespace', { name: 'app' }), 201);
  await put('domain', { name: 'app', patterns: [HOST] });
  await put('module', { name: 'm', payload: b64(`export function requestHandler(ctx: any) {\n  const what = ctx.pathParam('what');\n  console.log('info', what);\n  console.error('error', what);\n  if (what === 'throw') throw new Error('thrown in a worker');\n  ctx.response().json({ ok: true });\n}\n`) });
  await put('route', { name: 'r', paths: ['/r/{what}'], methods: ['GET'], modules: ['m'] });
  // /flood/start: the answering worker floods its log from a timer (its event loop stays free between bursts)
  await put('module', { name: 'flood', payload: b64(`let n = 0;\nlet started = false;\nexport function requestHandler(ctx: any) {\n  if (ctx.pathParam('what') === 'start' && !started) { started = true; setInterval(() => { for (let i = 0; i < 500; i++) console.log('flood', n++); }, 1); }\n  ctx.response().json({ n });\n}\n`) });
  await put('route', { name: 'flood', paths: ['/flood/{what}'], methods: ['GET'], modules: ['flood'] });
});
after(() => stop(server));

describe('module logs from worker processes', { timeout: 120_000 }, () => {
  it('lines of every worker reach the node with namespace, module, route, request id, level and the worker pid', async () => {
    const workers = childPids(server);
    assert.equal(workers.length, 2);
    // fresh connections until both workers have answered (each line names its process)
    let i = 0;
    await until(async () => {
      await proxied(`/r/w${i}`, `w-${i}`);
      i++;
      const pids = new Set((await logs('?namespace=app&module=m&level=error&limit=10000')).data.map((l) => l.pid));
      return workers.every((p) => pids.has(p));
    }, 'lines from both workers', 30_000, 50);
    const line = (await logs('?namespace=app&module=m&limit=10000')).data.find((l) => l.requestId === 'w-0' && l.level === 'info');
    assert.deepEqual([line.namespace, line.module, line.route, line.requestId, line.level, line.message], ['app', 'm', 'r', 'w-0', 'info', 'info w0']);
    assert.ok(workers.includes(line.pid));
  });

  it('an uncaught error in a worker is an error line with its request id', async () => {
    assert.equal((await proxied('/r/throw', 'w-throw')).status, 500);
    let line: any;
    await until(async () => (line = (await logs('?module=m&level=error')).data.find((l) => l.requestId === 'w-throw' && /uncaught/.test(l.message))) !== undefined, 'the error line');
    assert.equal(line.route, 'r');
    assert.match(line.message, /thrown in a worker/);
  });

  it('an event stream follower gets a line a worker logs after it subscribed', async () => {
    const stream = await openEventStream(`${server.adminUrl}/api/v1/logs?module=m&level=error&limit=0`);
    try {
      assert.equal(stream.status, 200);
      await proxied('/r/streamed', 'w-streamed');
      const line = await stream.next((l) => l.requestId === 'w-streamed', 'the streamed line');
      assert.equal(line.message, 'error streamed');
    } finally {
      stream.close();
    }
  });

  it('a worker flooding its log: the node keeps serving other routes, keeps at most buffer_lines lines, and says how many were dropped', async () => {
    assert.equal((await proxied('/flood/start')).status, 200);
    const follower = await openEventStream(`${server.adminUrl}/api/v1/logs?module=flood&limit=0`);
    try {
      await follower.next((l) => l.dropped > 0, 'a dropped-lines event on the stream', 30_000);
      // while it floods: other routes answer (on both workers), and so does the admin API
      for (let i = 0; i < 6; i++) assert.equal((await proxied(`/r/during${i}`, `during-${i}`)).status, 200);
      await until(async () => (await logs('?module=m&level=error')).data.some((l) => l.requestId === 'during-5'), 'the other module\'s line during the flood');

      const page = await logs('?module=flood&limit=10000');
      assert.ok(page.count <= BUFFER, `kept ${page.count} lines (buffer_lines ${BUFFER})`);
      assert.ok(page.data.some((l) => /^flood \d+$/.test(l.message)), 'flood lines are kept, within the limit');
      const dropped = page.dropped.find((d) => d.module === 'flood')?.dropped ?? 0;
      assert.ok(dropped > 0, JSON.stringify(page.dropped));
      // more lines dropped as the flood goes on: counted, never stored
      await until(async () => ((await logs('?module=flood&limit=10000')).dropped.find((d) => d.module === 'flood')?.dropped ?? 0) > dropped + 1000, 'the dropped count to grow', 30_000, 50);
      assert.ok((await logs('?module=flood&limit=10000')).count <= BUFFER);
      assert.equal((await logs('?module=m&limit=10000')).dropped.length, 0, 'the other module lost nothing');
    } finally {
      follower.close();
    }
  });
});

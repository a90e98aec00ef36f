/**
 * The access log through the real dgate-server with proxy worker processes: one JSON line per
 * request with every field, written by the worker that served it (to stdout or to a file),
 * sampled per request, and nothing at all by default.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { Agent, request } from './support/http.js';
import { REFUSING_URL } from './support/refusing.js';
import { putJson, startServerProcess, stop, type ServerProcess } from './support/server-process.js';
import { until } from './support/until.js';

/** a requestModifier that spends about 3 ms, and logs a line */
const SLOW = `export function requestModifier(ctx: any) {
  const t = Date.now();
  while (Date.now() - t < 3) { /* busy */ }
  console.log('slow module ran');
}
`;

const FIELDS = ['time', 'node_id', 'source', 'request_id', 'method', 'namespace', 'route', 'service', 'upstream', 'status', 'bytes_in', 'bytes_out', 'module_ms', 'upstream_ms', 'total_ms'];

type Line = Record<string, unknown>;

function accessLines(text: string): Line[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l['source'] === 'access');
}

async function send(base: string, path: string, opts: { id?: string; method?: string; body?: string; agent?: Agent } = {}): Promise<{ status: number; body: Buffer }> {
  const headers: Record<string, string> = opts.id === undefined ? {} : { 'X-Request-Id': opts.id };
  const res = await request(base + path, { method: opts.method ?? 'GET', headers, body: opts.body, dispatcher: opts.agent, signal: AbortSignal.timeout(10_000) });
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) };
}

let echo: EchoServer;
const dead = REFUSING_URL;
before(async () => {
  echo = await startEchoServer();
});
after(() => echo.close());

async function setUp(server: ServerProcess): Promise<void> {
  const put = async (kind: string, body: unknown) => assert.equal(await putJson(server.adminUrl, kind, body), 201, `PUT ${kind}`);
  await put('service', { name: 'echo', urls: [echo.url] });
  await put('service', { name: 'dead', urls: [dead] });
  await put('module', { name: 'slow', payload: Buffer.from(SLOW).toString('base64'), moduleType: 'typescript' });
  await put('route', { name: 'echo', paths: ['/echo/*'], methods: ['GET', 'POST'], service: 'echo' });
  await put('route', { name: 'dead', paths: ['/dead'], methods: ['GET'], service: 'dead' });
  await put('route', { name: 'slow', paths: ['/slow'], methods: ['GET'], service: 'echo', modules: ['slow'] });
}

describe('access log on stdout (sample_rate 1, 2 worker processes)', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({
      yaml: (p) => `
log_level: warn
node_id: access-node
storage: { type: memory }
proxy:
  host: 127.0.0.1
  port: ${p.proxy}
  workers: 2
  access_log: { enabled: true }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
    });
    await setUp(server);
  });
  after(async () => {
    if (server !== undefined) await stop(server);
  });

  it('writes one line per request with every field', async () => {
    const get = await send(server.proxyUrl, '/echo/a', { id: 'acc-get' });
    const post = await send(server.proxyUrl, '/echo/b', { id: 'acc-post', method: 'POST', body: 'hello world' });
    const slow = await send(server.proxyUrl, '/slow', { id: 'acc-module' });
    const missing = await send(server.proxyUrl, '/nowhere', { id: 'acc-404' });
    const failed = await send(server.proxyUrl, '/dead', { id: 'acc-502' });
    const generated = await send(server.proxyUrl, '/echo/c');
    assert.deepEqual([get.status, post.status, slow.status, missing.status, failed.status, generated.status], [200, 200, 200, 404, 502, 200]);

    const ids = ['acc-get', 'acc-post', 'acc-module', 'acc-404', 'acc-502'];
    let lines: Line[] = [];
    await until(() => {
      lines = accessLines(server.output());
      return ids.every((id) => lines.some((l) => l['request_id'] === id)) && lines.length >= 6;
    }, 'access lines of the 6 requests');
    assert.equal(lines.length, 6, 'one line per request');
    const byId = (id: string) => lines.find((l) => l['request_id'] === id)!;
    for (const line of lines) {
      assert.deepEqual(Object.keys(line).sort(), [...FIELDS].sort());
      assert.equal(line['node_id'], 'access-node');
      assert.ok(!Number.isNaN(Date.parse(String(line['time']))));
      assert.ok((line['total_ms'] as number) >= (line['upstream_ms'] as number), 'total includes the upstream time');
    }

    const g = byId('acc-get');
    assert.deepEqual(
      { method: g['method'], namespace: g['namespace'], route: g['route'], service: g['service'], upstream: g['upstream'], status: g['status'], bytes_in: g['bytes_in'], bytes_out: g['bytes_out'], module_ms: g['module_ms'] },
      { method: 'GET', namespace: 'default', route: 'echo', service: 'echo', upstream: echo.url, status: 200, bytes_in: 0, bytes_out: get.body.length, module_ms: 0 },
    );
    assert.ok((g['upstream_ms'] as number) > 0);

    const p = byId('acc-post');
    assert.equal(p['method'], 'POST');
    assert.equal(p['bytes_in'], 11);
    assert.equal(p['bytes_out'], post.body.length);

    const m = byId('acc-module');
    assert.equal(m['route'], 'slow');
    assert.ok((m['module_ms'] as number) >= 2, `module time ${String(m['module_ms'])} ms counts the 3 ms module`);
    assert.ok((m['total_ms'] as number) >= (m['module_ms'] as number) + (m['upstream_ms'] as number) - 0.01);

    const n = byId('acc-404');
    assert.deepEqual([n['status'], n['route'], n['service'], n['upstream']], [404, null, null, null]);
    const f = byId('acc-502');
    assert.deepEqual([f['status'], f['route'], f['service']], [502, 'dead', 'dead']);

    const other = lines.find((l) => !ids.includes(l['request_id'] as string))!;
    assert.match(String(other['request_id']), /^[0-9a-f-]{36}$/, 'a generated id is logged');
  });
});

describe('access log to a file, sample_rate 0.5 (2 worker processes)', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({
      yaml: (p) => `
log_level: warn
storage: { type: memory }
proxy:
  host: 127.0.0.1
  port: ${p.proxy}
  workers: 2
  access_log: { enabled: true, sample_rate: 0.5, file: logs/access.log }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
    });
    await setUp(server);
  });
  after(async () => {
    if (server !== undefined) await stop(server);
  });

  it('logs about half of 400 requests, from both workers, and nothing on stdout', async () => {
    const agents = Array.from({ length: 8 }, () => new Agent({ pipelining: 0 }));
    try {
      for (let round = 0; round < 50; round++) {
        const statuses = await Promise.all(agents.map((agent, i) => send(server.proxyUrl, '/echo/s', { id: `s-${round}-${i}`, agent }).then((r) => r.status)));
        assert.deepEqual(statuses, Array(8).fill(200));
      }
    } finally {
      for (const a of agents) await a.close();
    }
    // stopping the server makes the workers write what is pending before they exit
    await stop(server);
    const lines = accessLines(readFileSync(join(server.dir, 'logs', 'access.log'), 'utf8'));
    // binomial(400, 0.5): mean 200, standard deviation 10; 140..260 is six deviations each way
    assert.ok(lines.length >= 140 && lines.length <= 260, `${lines.length} of 400 requests logged`);
    assert.equal(new Set(lines.map((l) => l['request_id'])).size, lines.length, 'each request at most once');
    assert.ok(lines.every((l) => l['status'] === 200 && l['route'] === 'echo'));
    assert.equal(accessLines(server.output()).length, 0, 'no access lines on stdout');
  });
});

describe('access log off by default', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({
      yaml: (p) => `
log_level: info
storage: { type: memory }
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 1 }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
    });
    await setUp(server);
  });
  after(async () => {
    if (server !== undefined) await stop(server);
  });

  it('writes no access line', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await send(server.proxyUrl, '/echo/x')).status, 200);
    // a later request of the same (only) worker logs a module line: anything the earlier ones
    // would have written is out by then
    assert.equal((await send(server.proxyUrl, '/slow')).status, 200);
    await until(() => server.output().includes('slow module ran'), 'the module log line');
    assert.equal(accessLines(server.output()).length, 0);
  });
});

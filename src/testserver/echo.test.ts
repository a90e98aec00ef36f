import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, test } from 'node:test';
import { startEchoServer, type EchoServer } from './echo.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request via node:http, so header casing and repeats reach the server as written. */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string | string[]> | string[]; body?: string; agent?: Agent } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

let echo: EchoServer;
before(async () => {
  echo = await startEchoServer({ globalHeaders: { 'X-Test-Header': 'test', 'X-Other': 'o' } });
});
after(() => echo.close());

test('listens on 127.0.0.1 on a free port by default', () => {
  assert.ok(echo.port > 0);
  assert.equal(echo.url, `http://127.0.0.1:${echo.port}`);
});

test('echoes the request as JSON, with global headers on the response', async () => {
  const res = await send(`${echo.url}/some/path?a=1&b=two`, {
    headers: { 'X-Custom': 'v1', Accept: 'application/json' },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.headers['x-test-header'], 'test');
  assert.equal(res.headers['x-other'], 'o');
  const body = JSON.parse(res.body);
  assert.equal(body.status_code, 200);
  const data = body.data;
  assert.equal(data.method, 'GET');
  assert.equal(data.path, '/some/path?a=1&b=two');
  assert.equal(data.body, '');
  assert.equal(data.host, `127.0.0.1:${echo.port}`);
  assert.match(data.remote_addr, /^127\.0\.0\.1:\d+$/);
  assert.deepEqual(data.req_headers['X-Custom'], ['v1']);
  assert.deepEqual(data.req_headers['Accept'], ['application/json']);
  assert.deepEqual(data.req_headers['Host'], [`127.0.0.1:${echo.port}`]);
  assert.deepEqual(data.global_headers, { 'X-Test-Header': 'test', 'X-Other': 'o' });
  assert.equal('waited' in data, false);
});

test('repeated headers become arrays, grouped under the first spelling', async () => {
  // Raw header list: sent exactly as written (Host must then be given by hand).
  const raw = ['Host', `127.0.0.1:${echo.port}`, 'X-Multi', 'a', 'X-Multi', 'b', 'x-multi', 'c'];
  const res = await send(`${echo.url}/h`, { headers: raw });
  const headers = JSON.parse(res.body).data.req_headers;
  assert.deepEqual(headers['X-Multi'], ['a', 'b', 'c']);
  assert.equal(headers['x-multi'], undefined);
});

test('the request body is echoed as UTF-8 text', async () => {
  const res = await send(`${echo.url}/post`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    body: 'héllo wörld ✓',
  });
  const data = JSON.parse(res.body).data;
  assert.equal(data.method, 'POST');
  assert.equal(data.body, 'héllo wörld ✓');
});

test('?wait= sleeps first and reports the wait', async () => {
  const started = performance.now();
  const res = await send(`${echo.url}/slow?wait=60ms`);
  const elapsed = performance.now() - started;
  assert.equal(res.status, 200);
  assert.ok(elapsed >= 55, `answered after ${elapsed}ms`);
  const data = JSON.parse(res.body).data;
  assert.equal(data.waited, '60ms');
  assert.equal(data.path, '/slow?wait=60ms');
});

test('a bad ?wait= is a 400 in DGate\'s shape', async () => {
  const res = await send(`${echo.url}/?wait=soon`);
  assert.equal(res.status, 400);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.headers['x-test-header'], 'test');
  assert.deepEqual(JSON.parse(res.body), { error: 'Invalid wait time: soon', status: 400 });
});

test('?status= answers with that status', async () => {
  const res = await send(`${echo.url}/x?status=503`);
  assert.equal(res.status, 503);
  const body = JSON.parse(res.body);
  assert.equal(body.status_code, 503);
  assert.equal(body.data.path, '/x?status=503');

  const empty = await send(`${echo.url}/x?status=204`);
  assert.equal(empty.status, 204);
  assert.equal(empty.body, '');

  const bad = await send(`${echo.url}/x?status=abc`);
  assert.equal(bad.status, 400);
  assert.deepEqual(JSON.parse(bad.body), { error: 'Invalid status: abc', status: 400 });
});

test('?size= answers with that many bytes of "x" as text/plain', async () => {
  const res = await send(`${echo.url}/big?size=200000`);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/plain');
  assert.equal(res.headers['content-length'], '200000');
  assert.equal(res.body.length, 200000);
  assert.match(res.body, /^x+$/);

  const none = await send(`${echo.url}/big?size=0`);
  assert.equal(none.body, '');

  const withStatus = await send(`${echo.url}/big?size=3&status=404`);
  assert.deepEqual([withStatus.status, withStatus.body], [404, 'xxx']);

  const bad = await send(`${echo.url}/big?size=-1`);
  assert.equal(bad.status, 400);
  assert.deepEqual(JSON.parse(bad.body), { error: 'Invalid size: -1', status: 400 });
});

test('close() also closes idle keep-alive connections', async () => {
  const server = await startEchoServer();
  const agent = new Agent({ keepAlive: true });
  try {
    const res = await send(`${server.url}/`, { agent });
    assert.equal(res.status, 200);
    const sockets = Object.values(agent.freeSockets).flat();
    assert.equal(sockets.length, 1, 'the connection is idle and kept alive');
    const closed = new Promise<void>((resolve) => sockets[0]?.once('close', () => resolve()));
    const started = performance.now();
    await server.close();
    await closed;
    // Far below the server's 5 s keep-alive timeout.
    assert.ok(performance.now() - started < 2000);
  } finally {
    agent.destroy();
  }
});

test('close() cuts ?wait= sleeps short and still answers them', async () => {
  let sleeping!: () => void;
  const asleep = new Promise<void>((resolve) => (sleeping = resolve));
  const server = await startEchoServer({ port: 0, onSleep: () => sleeping() });
  const pending = send(`${server.url}/?wait=30s`);
  await asleep;
  const started = performance.now();
  await server.close();
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body).data.waited, '30s');
  assert.ok(performance.now() - started < 2000);
});

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import vm from 'node:vm';
import * as httpApi from './http.js';
import { createTestHost } from './test-host.js';

// A real upstream on loopback: /echo answers what it received, /redirect sends a 302 to /echo,
// /slow answers after ?ms=, /status/<n> answers that status.
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url!, 'http://x');
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: '/echo' }).end();
    } else if (url.pathname === '/slow') {
      const timer = setTimeout(() => res.end('late'), Number(url.searchParams.get('ms')));
      res.on('close', () => clearTimeout(timer));
    } else if (url.pathname.startsWith('/status/')) {
      res.writeHead(Number(url.pathname.slice(8))).end('status');
    } else {
      const body = Buffer.concat(chunks);
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-upstream', 'yes');
      res.end(JSON.stringify({ method: req.method, path: url.pathname, headers: req.headers, body: body.toString('base64') }));
    }
  });
});
let base = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const host = await createTestHost({ fetchTimeoutMs: 5000 });
const { fetch } = httpApi.create(host) as { fetch: httpApi.ModuleFetch };

test('name is dgate/http and it exports fetch', () => {
  assert.equal(httpApi.name, 'dgate/http');
  assert.equal(typeof fetch, 'function');
});

test('the response is the standard Response: status, ok, headers.get, json()', async () => {
  const res = await fetch(`${base}/echo`);
  assert.ok(res instanceof Response);
  assert.equal(res.status, 200);
  assert.equal(res.ok, true);
  assert.equal(res.headers.get('X-Upstream'), 'yes');
  const echo = (await res.json()) as any;
  assert.equal(echo.method, 'GET');
  assert.equal(echo.path, '/echo');
});

test('User-Agent is DGate-Client/1.0 unless the caller sets one (any case, object or Headers)', async () => {
  const ua = async (init?: httpApi.FetchOptions) => ((await (await fetch(`${base}/echo`, init)).json()) as any).headers['user-agent'];
  assert.equal(await ua(), 'DGate-Client/1.0');
  assert.equal(await ua({ headers: { 'x-other': '1' } }), 'DGate-Client/1.0');
  assert.equal(await ua({ headers: { 'USER-AGENT': 'mine/2' } }), 'mine/2');
  assert.equal(await ua({ headers: new Headers({ 'user-agent': 'mine/3' }) }), 'mine/3');
  const req = new Request(`${base}/echo`, { headers: { 'user-agent': 'from-request' } });
  assert.equal(((await (await fetch(req)).json()) as any).headers['user-agent'], 'from-request');
});

test('headers may be a plain object (also from a vm context) or Headers', async () => {
  const plain = vm.runInNewContext('({ "x-a": "1", "X-B": "two" })');
  const echo = (await (await fetch(`${base}/echo`, { headers: plain })).json()) as any;
  assert.equal(echo.headers['x-a'], '1');
  assert.equal(echo.headers['x-b'], 'two');
});

test('body may be a string, an ArrayBuffer or a typed array (also from a vm context)', async () => {
  const sent = async (body: unknown) => {
    const res = await fetch(`${base}/echo`, { method: 'POST', body: body as BodyInit });
    return Buffer.from(((await res.json()) as any).body, 'base64');
  };
  assert.equal((await sent('héllo')).toString(), 'héllo');
  assert.deepEqual([...(await sent(new Uint8Array([1, 2, 3]).buffer))], [1, 2, 3]);
  assert.deepEqual([...(await sent(new Uint8Array([0, 1, 2, 3, 4]).subarray(1, 3)))], [1, 2]);
  assert.deepEqual([...(await sent(vm.runInNewContext('new Uint8Array([7, 8])')))], [7, 8]);
  assert.deepEqual([...(await sent(vm.runInNewContext('new Uint8Array([9]).buffer')))], [9]);
});

test('redirects: follow by default, "error" rejects, "manual" returns the 3xx; `redirect` wins over `redirects`', async () => {
  const followed = await fetch(`${base}/redirect`);
  assert.equal(followed.status, 200);
  assert.equal(followed.redirected, true);
  await assert.rejects(fetch(`${base}/redirect`, { redirects: 'error' }), TypeError);
  const manual = await fetch(`${base}/redirect`, { redirects: 'manual' });
  assert.equal(manual.status, 302);
  assert.equal(manual.headers.get('location'), '/echo');
  assert.equal((await fetch(`${base}/redirect`, { redirects: 'error', redirect: 'manual' })).status, 302);
  await assert.rejects(fetch(`${base}/redirect`, { redirects: 'sometimes' as RequestRedirect }), {
    name: 'TypeError',
    message: 'fetch: redirects must be "follow", "error" or "manual", got sometimes',
  });
});

test('HTTP error statuses resolve; network errors reject', async () => {
  const res = await fetch(`${base}/status/404`);
  assert.equal(res.status, 404);
  assert.equal(res.ok, false);
  assert.equal(await res.text(), 'status');
  // port 2: binding it takes privileges and tests bind port 0 only, so nothing listens there (port 1 is a fetch "bad port")
  await assert.rejects(fetch('http://127.0.0.1:2/'), TypeError);
});

test('the host default timeout aborts a request that takes too long', async () => {
  const quick = httpApi.create(await createTestHost({ fetchTimeoutMs: 50 })) as { fetch: httpApi.ModuleFetch };
  await assert.rejects(quick.fetch(`${base}/slow?ms=2000`), { name: 'TimeoutError' });
});

test('timeout (ms) overrides the default both ways; a bad timeout is refused', async () => {
  await assert.rejects(fetch(`${base}/slow?ms=2000`, { timeout: 50 }), { name: 'TimeoutError' });
  const quick = httpApi.create(await createTestHost({ fetchTimeoutMs: 20 })) as { fetch: httpApi.ModuleFetch };
  assert.equal(await (await quick.fetch(`${base}/slow?ms=100`, { timeout: 2000 })).text(), 'late');
  await assert.rejects(fetch(`${base}/echo`, { timeout: -1 }), RangeError);
});

test('a caller signal replaces the default timeout, and still aborts', async () => {
  const quick = httpApi.create(await createTestHost({ fetchTimeoutMs: 20 })) as { fetch: httpApi.ModuleFetch };
  const controller = new AbortController();
  assert.equal(await (await quick.fetch(`${base}/slow?ms=100`, { signal: controller.signal })).text(), 'late');
  const pending = quick.fetch(`${base}/slow?ms=2000`, { signal: controller.signal });
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
});

test('a Request input keeps its own signal alongside the default timeout', async () => {
  const controller = new AbortController();
  const pending = fetch(new Request(`${base}/slow?ms=2000`, { signal: controller.signal }));
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  const quick = httpApi.create(await createTestHost({ fetchTimeoutMs: 30 })) as { fetch: httpApi.ModuleFetch };
  await assert.rejects(quick.fetch(new Request(`${base}/slow?ms=2000`)), { name: 'TimeoutError' });
});

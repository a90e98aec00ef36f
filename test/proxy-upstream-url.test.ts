/**
 * Where requests go upstream: every stripPath/preserveHost row of DGate's table (§3.5), with
 * the original's bugs fixed (leading slash kept, service URL query kept, client's trailing slash kept).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

let gw: TestGateway;
let echo: EchoServer;
let n = 0;

before(async () => {
  echo = await startEchoServer();
  gw = await startTestGateway();
});
after(async () => {
  await gw.close();
  await echo.close();
});

/** Creates a service + route in a fresh namespace (with its own domain) and returns the path the upstream saw. */
async function upstreamSees(opts: { pattern: string; strip: boolean; base: string; request: string; preserveHost?: boolean; disableQueryParams?: boolean }) {
  const ns = `urltest${++n}`;
  const host = `${ns}.example.com`;
  await gw.put('namespace', { name: ns });
  await gw.put('domain', { name: 'd', namespace: ns, patterns: [host] });
  await gw.put('service', { name: 's', namespace: ns, urls: [echo.url + opts.base], disableQueryParams: opts.disableQueryParams ?? false });
  await gw.put('route', { name: 'r', namespace: ns, paths: [opts.pattern], methods: ['GET'], service: 's', stripPath: opts.strip, preserveHost: opts.preserveHost ?? false });
  const res = await gw.proxy(opts.request, { host: `${host}:1234` });
  assert.equal(res.status, 200, res.text);
  return res.json().data as { path: string; host: string };
}

describe('upstream path (DGate §3.5 rows)', () => {
  const rows: Array<[string, boolean, string, string, string]> = [
    ['/api/*', true, '/v1', '/api/users/1', '/v1/users/1'],
    ['/api/*', true, '', '/api/users/1', '/users/1'],
    ['/test/*', true, '/pre', '/test/', '/pre'],
    ['/api/{id}', true, '/v1', '/api/42', '/v1'],
    ['/svctest', true, '', '/svctest', '/'],
    ['/api/*', false, '/v1', '/api/users/', '/v1/api/users/'],
    ['/abc/{id}', false, '/123', '/abc/x', '/123/abc/x'],
  ];
  for (const [pattern, strip, base, request, expected] of rows) {
    it(`pattern ${pattern} strip=${strip} service path "${base}" request ${request} → ${expected}`, async () => {
      const seen = await upstreamSees({ pattern, strip, base, request });
      assert.equal(seen.path, expected);
    });
  }

  it('keeps a trailing slash of the request after a stripped prefix', async () => {
    assert.equal((await upstreamSees({ pattern: '/api/*', strip: true, base: '/v1', request: '/api/users/' })).path, '/v1/users/');
  });

  it('sends the service URL query first, then the client query', async () => {
    assert.equal((await upstreamSees({ pattern: '/q', strip: false, base: '/b?key=1', request: '/q?x=2' })).path, '/b/q?key=1&x=2');
  });

  it('disableQueryParams drops the client query but keeps the service URL query', async () => {
    assert.equal((await upstreamSees({ pattern: '/q', strip: false, base: '/b?key=1', request: '/q?x=2', disableQueryParams: true })).path, '/b/q?key=1');
  });
});

describe('upstream Host header', () => {
  it('is the service host when preserveHost is false', async () => {
    const seen = await upstreamSees({ pattern: '/h', strip: false, base: '', request: '/h' });
    assert.equal(seen.host, new URL(echo.url).host);
  });
  it("is the client's Host (with port) when preserveHost is true", async () => {
    const seen = await upstreamSees({ pattern: '/h', strip: false, base: '', request: '/h', preserveHost: true });
    assert.match(seen.host, /^urltest\d+\.example\.com:1234$/);
  });
});

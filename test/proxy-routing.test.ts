/**
 * How the proxy picks a namespace (domains) and a route (paths, params, methods), and the
 * gateway's own 404/405/501 answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

let echo: EchoServer;
before(async () => {
  echo = await startEchoServer();
});
after(() => echo.close());

/** A gateway whose namespaces each have one route "/*" to the echo server at path /<namespace>. */
async function gatewayWith(namespaces: string[], domains: Array<{ name: string; namespace: string; patterns: string[]; priority?: number }>, config: Record<string, unknown> = {}) {
  const gw = await startTestGateway(config);
  for (const ns of namespaces) {
    if (ns !== 'default') await gw.put('namespace', { name: ns });
    await gw.put('service', { name: 's', namespace: ns, urls: [`${echo.url}/${ns}`] });
    await gw.put('route', { name: 'all', namespace: ns, paths: ['/*'], methods: ['*'], service: 's', stripPath: true });
  }
  for (const d of domains) await gw.put('domain', d);
  return gw;
}

async function namespaceFor(gw: TestGateway, host: string): Promise<string | number> {
  const res = await gw.proxy('/', { host });
  return res.status === 200 ? res.json().data.path.slice(1) : res.status;
}

describe('namespace resolution by Host', () => {
  it('matches exact, prefix, suffix, contains and regex patterns', async () => {
    const gw = await gatewayWith(['exact', 'suffix', 'prefix', 'contains', 'regex'], [
      { name: 'a', namespace: 'exact', patterns: ['api.example.com'] },
      { name: 'b', namespace: 'suffix', patterns: ['*.suffix.io'] },
      { name: 'c', namespace: 'prefix', patterns: ['admin.*'] },
      { name: 'd', namespace: 'contains', patterns: ['*middle*'] },
      { name: 'e', namespace: 'regex', patterns: ['/^(abc|cba)\\.test\\.com$/'] },
    ], { disable_default_namespace: true });
    try {
      assert.equal(await namespaceFor(gw, 'api.example.com'), 'exact');
      assert.equal(await namespaceFor(gw, 'API.Example.com:8080'), 'exact', 'hosts are case-insensitive and the port is ignored');
      assert.equal(await namespaceFor(gw, 'x.suffix.io'), 'suffix');
      assert.equal(await namespaceFor(gw, 'suffix.io'), 404, '*.suffix.io does not match the bare domain');
      assert.equal(await namespaceFor(gw, 'admin.anything.net'), 'prefix');
      assert.equal(await namespaceFor(gw, 'a-middle-b.org'), 'contains');
      assert.equal(await namespaceFor(gw, 'cba.test.com'), 'regex');
      assert.equal(await namespaceFor(gw, 'xcba.test.com'), 404);
      assert.equal(await namespaceFor(gw, 'nothing.org'), 404, 'no match and no default namespace');
    } finally {
      await gw.close();
    }
  });

  it('tries higher priority domains first', async () => {
    const gw = await gatewayWith(['low', 'high'], [
      { name: 'z-low', namespace: 'low', patterns: ['*.example.com'], priority: 1 },
      { name: 'a-high', namespace: 'high', patterns: ['*.example.com'], priority: 10 },
    ]);
    try {
      assert.equal(await namespaceFor(gw, 'x.example.com'), 'high');
      await gw.put('domain', { name: 'z-low', namespace: 'low', patterns: ['*.example.com'], priority: 20 });
      assert.equal(await namespaceFor(gw, 'x.example.com'), 'low', 'a priority change is live after the write answers');
    } finally {
      await gw.close();
    }
  });

  it('breaks priority ties by domain name, deterministically', async () => {
    const gw = await gatewayWith(['one', 'two'], [
      { name: 'alpha', namespace: 'one', patterns: ['*.tie.com'] },
      { name: 'beta', namespace: 'two', patterns: ['*.tie.com'] },
    ]);
    try {
      assert.equal(await namespaceFor(gw, 'x.tie.com'), 'two', 'equal priority: the name later in byte order wins (DGate order)');
    } finally {
      await gw.close();
    }
  });

  it('with no domains, serves the only namespace', async () => {
    const gw = await gatewayWith(['solo'], [], { disable_default_namespace: true });
    try {
      assert.equal(await namespaceFor(gw, 'whatever.example'), 'solo');
    } finally {
      await gw.close();
    }
  });

  it('with no domains and several namespaces, serves the default namespace', async () => {
    const gw = await gatewayWith(['default', 'other'], []);
    try {
      assert.equal(await namespaceFor(gw, 'whatever.example'), 'default');
    } finally {
      await gw.close();
    }
  });

  it('falls back to the default namespace only when no domain belongs to it', async () => {
    const gw = await gatewayWith(['default', 'other'], [{ name: 'o', namespace: 'other', patterns: ['other.com'] }]);
    try {
      assert.equal(await namespaceFor(gw, 'other.com'), 'other');
      assert.equal(await namespaceFor(gw, 'unknown.com'), 'default');
      await gw.put('domain', { name: 'dd', namespace: 'default', patterns: ['default.com'] });
      assert.equal(await namespaceFor(gw, 'unknown.com'), 404);
      assert.equal(await namespaceFor(gw, 'default.com'), 'default');
    } finally {
      await gw.close();
    }
  });

  it('strict_mode closes the connection when no namespace matches', async () => {
    const gw = await gatewayWith(['only'], [{ name: 'o', namespace: 'only', patterns: ['only.com'] }], { disable_default_namespace: true, proxy: { strict_mode: true } });
    try {
      await assert.rejects(gw.proxy('/', { host: 'other.com' }));
      assert.equal(await namespaceFor(gw, 'only.com'), 'only');
    } finally {
      await gw.close();
    }
  });

  it('allowed_domains answers 403 for other hosts', async () => {
    const gw = await gatewayWith(['default'], [], { proxy: { allowed_domains: ['*.allowed.com'] } });
    try {
      assert.equal(await namespaceFor(gw, 'x.allowed.com'), 'default');
      assert.equal(await namespaceFor(gw, 'x.denied.com'), 403);
    } finally {
      await gw.close();
    }
  });

  it('redirect_https answers 307 to the same URL on https (default port without proxy.tls)', async () => {
    const gw = await gatewayWith(['default'], [], { proxy: { redirect_https: ['secure.com'] } });
    try {
      const res = await gw.proxy('/a/b?c=1', { host: 'secure.com:8080' });
      assert.equal(res.status, 307);
      assert.equal(res.headers.location, 'https://secure.com/a/b?c=1', 'same host and path, default https port');
    } finally {
      await gw.close();
    }
  });
});

describe('route matching', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
    await gw.put('service', { name: 's', urls: [echo.url] });
    const route = (name: string, paths: string[], methods: string[], service: string | null = 's') =>
      gw.put('route', { name, paths, methods, ...(service ? { service } : {}) });
    await route('static', ['/users/me'], ['GET']);
    await route('param', ['/users/{id}'], ['GET', 'POST']);
    await route('regex', ['/items/{id:[0-9]+}'], ['GET']);
    await route('catchall', ['/files/*'], ['*']);
    await route('noservice', ['/handler'], ['GET'], null);
  });
  after(() => gw.close());

  it('serves static, param, regex param and catch-all paths', async () => {
    assert.equal((await gw.proxy('/users/me')).json().data.path, '/users/me');
    assert.equal((await gw.proxy('/users/42')).json().data.path, '/users/42');
    assert.equal((await gw.proxy('/items/7')).status, 200);
    assert.equal((await gw.proxy('/files/a/b/c')).status, 200);
    assert.equal((await gw.proxy('/files/')).status, 200);
  });

  it('answers 404 for unmatched paths, regex mismatches and a trailing-slash difference', async () => {
    for (const path of ['/nope', '/items/abc', '/files', '/users/me/']) {
      const res = await gw.proxy(path);
      assert.equal(res.status, 404, path);
      assert.equal(res.text, '404 page not found\n');
    }
  });

  it('answers 405 with Allow for a path registered with other methods; HEAD is not implied by GET', async () => {
    const res = await gw.proxy('/users/42', { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET, POST');
    assert.equal((await gw.proxy('/users/me', { method: 'HEAD' })).status, 405);
  });

  it('methods ["*"] accepts any method', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await gw.proxy('/files/x', { method });
      assert.equal(res.status, 200, method);
      assert.equal(res.json().data.method, method);
    }
  });

  it('answers 501 for a route with no service (and no module)', async () => {
    assert.equal((await gw.proxy('/handler')).status, 501);
  });

  it('a new route is served by the first request after the write answers', async () => {
    for (let i = 0; i < 20; i++) {
      await gw.put('route', { name: `fresh${i}`, paths: [`/fresh/${i}`], methods: ['GET'], service: 's' });
      assert.equal((await gw.proxy(`/fresh/${i}`)).status, 200);
    }
  });

  it('a refused route write changes nothing on the proxy', async () => {
    const res = await gw.admin('PUT', '/api/v1/route', { name: 'static', paths: ['no-slash'], methods: ['GET'], service: 's' });
    assert.equal(res.status, 400);
    assert.equal((await gw.proxy('/users/me')).status, 200);
  });
});

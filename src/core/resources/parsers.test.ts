import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../errors.js';
import { parseCollection } from './collection.js';
import { parseDocument } from './document.js';
import { parseDomain } from './domain.js';
import { parseModule } from './module.js';
import { parseNamespace } from './namespace.js';
import { parseRoute } from './route.js';
import { parseSecret } from './secret.js';
import { parseService } from './service.js';

const d = { namespace: 'default' };

function refused(fn: () => unknown, message: string, status = 400): void {
  assert.throws(fn, (e: unknown) => e instanceof GatewayError && e.status === status && e.message === message ? true : assert.fail(`got ${String(e)}`));
}

test('every parser fills in every default, so a PUT is a full replace', () => {
  assert.deepEqual(parseNamespace({ name: 'n' }), { name: 'n' });
  assert.deepEqual(parseService({ name: 's', urls: ['http://a'] }, d), {
    name: 's', namespace: 'default', urls: ['http://a'], retries: 3, retryTimeout: 0, connectTimeout: 0, requestTimeout: 0,
    tlsSkipVerify: false, http2Only: false, hideDGateHeaders: false, disableQueryParams: false,
  });
  assert.deepEqual(parseRoute({ name: 'r', paths: ['/'], methods: ['get'] }, d), {
    name: 'r', namespace: 'default', paths: ['/'], methods: ['GET'], preserveHost: false, stripPath: false,
  });
  assert.deepEqual(parseModule({ name: 'm', payload: 'eA==' }, d), { name: 'm', namespace: 'default', payload: 'eA==', moduleType: 'typescript' });
  assert.deepEqual(parseDomain({ name: 'x', patterns: ['*'] }, d), { name: 'x', namespace: 'default', patterns: ['*'], priority: 0 });
  assert.deepEqual(parseCollection({ name: 'c' }, d), { name: 'c', namespace: 'default', schema: {}, visibility: 'public', type: 'document' });
  assert.deepEqual(parseSecret({ name: 'k', data: 'v' }, d), { name: 'k', namespace: 'default', data: 'v' });
});

test('without a default namespace the body must name one', () => {
  refused(() => parseService({ name: 's', urls: ['http://a'] }, {}), 'namespace is required');
  assert.equal(parseService({ name: 's', namespace: 'ns', urls: ['http://a'] }, {}).namespace, 'ns');
});

test('unknown fields are refused by name (typos do not pass silently)', () => {
  refused(() => parseRoute({ name: 'r', paths: ['/'], methods: ['GET'], stripPaths: true }, d), 'stripPaths: unknown field');
  refused(() => parseNamespace({ name: 'n', namespace: 'x' }), 'namespace: unknown field');
  refused(() => parseService([], d), 'body: must be a JSON object');
});

test('service: urls, retries and durations', () => {
  const svc = (extra: object) => parseService({ name: 's', urls: ['http://a'], ...extra }, d);
  refused(() => svc({ urls: [] }), 'urls: must be a non-empty array of strings');
  refused(() => parseService({ name: 's' }, d), 'urls: is required');
  refused(() => svc({ urls: ['http://a', 'ftp://b'] }), 'urls[1]: scheme must be http or https');
  refused(() => svc({ urls: ['/relative'] }), 'urls[0]: must be an absolute URL');
  refused(() => svc({ urls: ['http://a/#frag'] }), 'urls[0]: must not have a fragment');
  refused(() => svc({ urls: [5] }), 'urls[0]: must be a string');
  assert.deepEqual(svc({ urls: ['https://a:8443/p?x=1'] }).urls, ['https://a:8443/p?x=1']);
  refused(() => svc({ retries: -1 }), 'retries: must be an integer between 0 and 100');
  refused(() => svc({ retries: 1.5 }), 'retries: must be an integer between 0 and 100');
  refused(() => svc({ retries: 101 }), 'retries: must be an integer between 0 and 100');
  const t = svc({ retries: 0, retryTimeout: '50ms', connectTimeout: 1000, requestTimeout: '1.5s' });
  assert.deepEqual([t.retries, t.retryTimeout, t.connectTimeout, t.requestTimeout], [0, 50_000_000, 1000, 1_500_000_000]);
  refused(() => svc({ retryTimeout: -1 }), 'retryTimeout: must not be negative');
  refused(() => svc({ requestTimeout: '5 seconds' }), 'requestTimeout: must be a duration: integer nanoseconds or a string such as "1.5s"');
  refused(() => svc({ http2Only: 'yes' }), 'http2Only: must be true or false');
  assert.equal(svc({ http2Only: true }).http2Only, true);
  assert.equal(svc({ http2Only: false }).http2Only, false);
});

test('route: paths, methods, modules', () => {
  const r = (extra: object) => parseRoute({ name: 'r', paths: ['/'], methods: ['GET'], ...extra }, d);
  refused(() => r({ paths: ['/ok', 'abc'] }), 'paths[1]: must begin with "/"');
  refused(() => r({ methods: [] }), 'methods: must be a non-empty array of strings');
  refused(() => r({ methods: ['GET', 'FETCH'] }), 'methods[1]: unsupported method: FETCH');
  refused(() => r({ methods: ['*', 'GET'] }), 'methods: "*" cannot be combined with other methods');
  assert.deepEqual(r({ methods: ['*'] }).methods, ['*']);
  assert.deepEqual(r({ methods: ['post', 'Get', 'POST'] }).methods, ['POST', 'GET']);
  assert.deepEqual(r({ modules: ['b', 'a'] }).modules, ['b', 'a']);
  refused(() => r({ modules: ['a', 'b', 'a'] }), 'modules[2]: duplicate module: a');
  refused(() => r({ service: 'a b' }), 'service: must be 1-128 characters without "/", whitespace or control characters');
  assert.equal(r({ service: '' }).service, undefined);
});

test('module: payload must be standard base64 of UTF-8 text; moduleType is closed', () => {
  const m = (extra: object) => parseModule({ name: 'm', payload: 'eA==', ...extra }, d);
  assert.equal(m({ payload: 'ZXhw\r\nb3J0' }).payload, 'ZXhwb3J0');
  refused(() => m({ payload: 'eA' }), 'payload: must be standard base64 (with padding)');
  refused(() => m({ payload: 'e-_A' }), 'payload: must be standard base64 (with padding)');
  refused(() => m({ payload: '/w==' }), 'payload: must be the base64 of UTF-8 text');
  refused(() => parseModule({ name: 'm' }, d), 'payload: is required');
  assert.equal(m({ moduleType: 'javascript' }).moduleType, 'javascript');
  refused(() => m({ moduleType: 'python' }), 'moduleType: must be "typescript" or "javascript"');
});

test('domain: patterns, regex patterns, priority, cert and key together', () => {
  const dom = (extra: object) => parseDomain({ name: 'x', patterns: ['a.com'], ...extra }, d);
  // the reason is the JavaScript engine's own words (V8 on Node, JavaScriptCore on Bun)
  let reason = '';
  try {
    new RegExp('(unclosed');
  } catch (err) {
    reason = (err as Error).message;
  }
  assert.notEqual(reason, '');
  refused(() => dom({ patterns: ['/(unclosed/'] }), `patterns[0]: invalid regular expression: ${reason}`);
  assert.deepEqual(dom({ patterns: ['/^(a|b)\\.com$/', '*.x.com'] }).patterns, ['/^(a|b)\\.com$/', '*.x.com']);
  refused(() => dom({ patterns: [''] }), 'patterns[0]: must not be empty');
  refused(() => dom({ priority: 'high' }), `priority: must be an integer between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`);
  refused(() => dom({ cert: 'PEM' }), 'key: cert and key must be given together');
  assert.equal(dom({ cert: '', key: '' }).cert, undefined);
});

test('collection: schema must compile, visibility and type are closed sets', () => {
  const c = (extra: object) => parseCollection({ name: 'c', ...extra }, d);
  assert.throws(() => c({ schema: { type: 'nope' } }), /^GatewayError: schema: schema is invalid: data\/type must be equal to one of the allowed values/);
  refused(() => c({ schema: [] }), 'schema: must be a JSON object');
  refused(() => c({ visibility: 'hidden' }), 'visibility: must be one of "public", "private"');
  refused(() => c({ type: 'x' }), 'type: must be one of "document", "fetcher"');
  refused(() => c({ schema: { $async: true, type: 'object' } }), 'schema: async schemas are not supported');
});

test('document: createdAt is kept from the previous version, updatedAt is now', () => {
  const first = parseDocument({ a: 1 }, { id: 'd1', namespace: 'n', collection: 'c', now: new Date(1000) });
  assert.equal(first.createdAt, first.updatedAt);
  const second = parseDocument('text', { id: 'd1', namespace: 'n', collection: 'c', previous: first, now: new Date(5000) });
  assert.deepEqual(second, { id: 'd1', namespace: 'n', collection: 'c', data: 'text', createdAt: new Date(1000).toISOString(), updatedAt: new Date(5000).toISOString() });
  refused(() => parseDocument(1, { id: 'a b', namespace: 'n', collection: 'c', now: new Date() }), 'id: must be 1-128 characters without "/", whitespace or control characters');
});

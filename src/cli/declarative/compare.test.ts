import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findSpec } from '../resources/index.js';
import { changedFields, stableJson, storedForm } from './compare.js';

const spec = (name: string) => findSpec(name)!;

test('storedForm fills in the server’s defaults and its rewrites', () => {
  assert.deepEqual(storedForm(spec('service'), { name: 's', namespace: 'n', urls: ['http://a'], retryTimeout: '50ms', tags: [] }), {
    name: 's', namespace: 'n', urls: ['http://a'], retryTimeout: 50_000_000, retries: 3, connectTimeout: 0, requestTimeout: 0,
    tlsSkipVerify: false, http2Only: false, hideDGateHeaders: false, disableQueryParams: false,
  });
  assert.deepEqual(storedForm(spec('route'), { name: 'r', paths: ['/'], methods: ['get', 'GET', 'post'], service: '', modules: [] }), {
    name: 'r', paths: ['/'], methods: ['GET', 'POST'], stripPath: false, preserveHost: false,
  });
  assert.deepEqual(storedForm(spec('module'), { name: 'm', payload: 'ZXhw\nb3J0' }), { name: 'm', payload: 'ZXhwb3J0', moduleType: 'typescript' });
  assert.deepEqual(storedForm(spec('domain'), { name: 'd', patterns: ['a'], cert: '', key: null }), { name: 'd', patterns: ['a'], priority: 0 });
});

test('changedFields lists what differs, in field order; key order inside JSON values is no change', () => {
  const s = spec('collection');
  const stored = storedForm(s, { name: 'c', namespace: 'n', schema: { type: 'object', properties: { a: {} } } });
  assert.deepEqual(changedFields(s, storedForm(s, { name: 'c', namespace: 'n', schema: { properties: { a: {} }, type: 'object' } }), stored), []);
  assert.deepEqual(changedFields(s, storedForm(s, { name: 'c', namespace: 'n', visibility: 'private', tags: ['x'] }), stored), ['schema', 'visibility', 'tags']);
});

test('stableJson sorts object keys at every depth and keeps array order', () => {
  assert.equal(stableJson({ b: 1, a: { d: [2, 1], c: null } }), '{"a":{"c":null,"d":[2,1]},"b":1}');
});

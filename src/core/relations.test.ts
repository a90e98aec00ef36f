import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Change } from './change.js';
import { GatewayError } from './errors.js';
import { RELATIONS, validateBatch } from './relations.js';
import { State } from './state.js';
import type { Collection, Document, Route, Service } from './types.js';
import { KINDS } from './types.js';

const ns = (name: string): Change => ({ op: 'put', kind: 'namespace', namespace: name, name, item: { name } });
const service = (name: string, namespace = 'ns1'): Change => {
  const item: Service = {
    name, namespace, urls: ['http://up'], retries: 3, retryTimeout: 0, connectTimeout: 0, requestTimeout: 0,
    tlsSkipVerify: false, http2Only: false, hideDGateHeaders: false, disableQueryParams: false,
  };
  return { op: 'put', kind: 'service', namespace, name, item };
};
const route = (name: string, extra: Partial<Route> = {}, namespace = 'ns1'): Change => ({
  op: 'put', kind: 'route', namespace, name,
  item: { name, namespace, paths: ['/'], methods: ['GET'], preserveHost: false, stripPath: false, ...extra },
});
const mod = (name: string, namespace = 'ns1'): Change => ({
  op: 'put', kind: 'module', namespace, name, item: { name, namespace, payload: '', moduleType: 'javascript' },
});
const collection = (name: string, schema: Record<string, unknown> = {}, namespace = 'ns1'): Change => {
  const item: Collection = { name, namespace, schema, visibility: 'public', type: 'document' };
  return { op: 'put', kind: 'collection', namespace, name, item };
};
const doc = (collectionName: string, id: string, data: unknown, namespace = 'ns1'): Change => {
  const item: Document = { id, namespace, collection: collectionName, data, createdAt: '', updatedAt: '' };
  return { op: 'put', kind: 'document', namespace, name: `${collectionName}/${id}`, item };
};
const del = (kind: Change['kind'], name: string, namespace = 'ns1'): Change => ({ op: 'delete', kind, namespace, name });

function stateWith(...changes: Change[]): State {
  return State.empty().applyChanges(changes, 1);
}

function refused(fn: () => void, status: number, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GatewayError, String(e));
    assert.equal(e.status, status);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('the table references every non-namespace kind to its namespace, plus the cross-kind references', () => {
  for (const kind of KINDS.filter((k) => k !== 'namespace')) {
    assert.ok(RELATIONS.some((r) => r.from === kind && r.to === 'namespace' && r.field === 'namespace'), kind);
  }
  assert.ok(RELATIONS.some((r) => r.from === 'route' && r.field === 'service' && r.to === 'service'));
  assert.ok(RELATIONS.some((r) => r.from === 'route' && r.field === 'modules' && r.to === 'module' && r.many));
  assert.ok(RELATIONS.some((r) => r.from === 'document' && r.field === 'collection' && r.to === 'collection'));
});

test('a put whose references exist passes, including references created earlier in the same batch', () => {
  validateBatch(State.empty(), [ns('ns1'), service('s1'), mod('m1'), route('r1', { service: 's1', modules: ['m1'] })]);
});

test('a put with a missing reference is 422 naming the kind and the name', () => {
  const s = stateWith(ns('ns1'), mod('m1'));
  refused(() => validateBatch(s, [route('r1', { service: 's1' })]), 422, 'service not found: s1');
  refused(() => validateBatch(s, [route('r1', { modules: ['m1', 'm2'] })]), 422, 'module not found: m2');
  refused(() => validateBatch(s, [service('s1', 'nope')]), 422, 'namespace not found: nope');
  refused(() => validateBatch(s, [doc('c1', 'd1', 1)]), 422, 'collection not found: c1');
});

test('references are checked against the state after the whole batch', () => {
  const s = stateWith(ns('ns1'), service('s1'));
  refused(() => validateBatch(s, [route('r1', { service: 's1' }), del('service', 's1')]), 422, 'service not found: s1');
  // a put that a later change of the batch removes is not checked
  validateBatch(s, [route('r1', { service: 'gone' }), del('route', 'r1')]);
});

test('deleting a missing item is 404, in batch order', () => {
  const s = stateWith(ns('ns1'), service('s1'));
  refused(() => validateBatch(s, [del('route', 'r1')]), 404, 'route not found: r1');
  refused(() => validateBatch(s, [del('service', 's1'), del('service', 's1')]), 404, 'service not found: s1');
  refused(() => validateBatch(s, [del('document', 'c1/d1')]), 404, 'document not found: d1');
  validateBatch(s, [service('s2'), del('service', 's2')]);
});

test('a delete that would leave a dangling reference is 409 naming every referrer', () => {
  const s = stateWith(ns('ns1'), service('svc1'), mod('m1'), route('r1', { service: 'svc1', modules: ['m1'] }), route('r2', { service: 'svc1' }));
  refused(() => validateBatch(s, [del('service', 'svc1')]), 409, 'cannot delete service: svc1: still referenced by route r1, route r2');
  refused(() => validateBatch(s, [del('module', 'm1')]), 409, 'cannot delete module: m1: still referenced by route r1');
  // deleting the referrers in the same batch makes it fine
  validateBatch(s, [del('route', 'r1'), del('route', 'r2'), del('service', 'svc1'), del('module', 'm1')]);
  // the same service name in another namespace is not a referrer
  const other = s.applyChanges([ns('ns2'), service('svc1', 'ns2')], 2);
  validateBatch(other, [del('service', 'svc1', 'ns2')]);
});

test('a namespace is refused while any item of any kind is in it, documents and secrets included', () => {
  const secret: Change = { op: 'put', kind: 'secret', namespace: 'ns1', name: 'k', item: { name: 'k', namespace: 'ns1', data: 'x' } };
  refused(() => validateBatch(stateWith(ns('ns1'), secret), [del('namespace', 'ns1', 'ns1')]), 409, 'cannot delete namespace: ns1: still referenced by secret k');
  const withDoc = stateWith(ns('ns1'), collection('c1'), doc('c1', 'd1', {}));
  refused(() => validateBatch(withDoc, [del('collection', 'c1'), del('namespace', 'ns1', 'ns1')]), 409, /still referenced by document c1\/d1/);
  validateBatch(stateWith(ns('ns1')), [del('namespace', 'ns1', 'ns1')]);
});

test('a long list of referrers is cut after ten names', () => {
  const many = Array.from({ length: 12 }, (_, i) => doc('c1', `d${String(i).padStart(2, '0')}`, {}));
  const s = stateWith(ns('ns1'), collection('c1'), ...many);
  refused(() => validateBatch(s, [del('collection', 'c1')]), 409, /still referenced by document c1\/d00, .*document c1\/d09 and 2 more$/);
});

test('document data must satisfy the collection schema: 422 naming the failing path', () => {
  const s = stateWith(ns('ns1'), collection('c1', { type: 'object', properties: { url: { type: 'string' } }, required: ['url'], additionalProperties: false }));
  validateBatch(s, [doc('c1', 'd1', { url: 'https://x' })]);
  refused(() => validateBatch(s, [doc('c1', 'd1', { url: 5 })]), 422, 'document does not match the schema of collection c1: data/url: must be string');
  refused(() => validateBatch(s, [doc('c1', 'd1', [])]), 422, /data: must be object$/);
  refused(() => validateBatch(s, [doc('c1', 'd1', { url: 'u', x: 1 })]), 422, /data: must NOT have additional properties \(x\)$/);
});

test('a schema change must accept the existing documents; other collection updates skip the scan', () => {
  const s = stateWith(ns('ns1'), collection('c1'), doc('c1', 'd1', { n: 'text' }));
  refused(
    () => validateBatch(s, [collection('c1', { properties: { n: { type: 'number' } } })]),
    422,
    'document does not match the schema of collection c1: document d1: data/n: must be number',
  );
  validateBatch(s, [collection('c1', { properties: { n: { type: 'string' } } })]);
  validateBatch(s, [collection('c1', {})]);
});

test('validateBatch changes nothing', () => {
  const s = stateWith(ns('ns1'), service('s1'));
  assert.throws(() => validateBatch(s, [service('s2'), del('route', 'nope')]));
  assert.equal(s.has('service', 'ns1', 's2'), false);
  assert.equal(s.rev, 1);
});

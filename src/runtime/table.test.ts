/**
 * The incremental table builder: a batch rebuilds only what it touches, and everything else in
 * the new table is the very same object as in the previous one.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Change } from '../core/change.js';
import { parseCollection } from '../core/resources/collection.js';
import { parseDocument } from '../core/resources/document.js';
import { parseDomain } from '../core/resources/domain.js';
import { parseNamespace } from '../core/resources/namespace.js';
import { parseRoute } from '../core/resources/route.js';
import { parseService } from '../core/resources/service.js';
import { State } from '../core/state.js';
import { ModuleSets } from '../modules/module-sets.js';
import type { ModuleHost } from '../modules/host.js';
import { TableBuilder, type RuntimeTable } from './table.js';
import type { PoolSettings } from './service-runtime.js';

const put = (kind: Change['kind'], namespace: string, name: string, item: unknown): Change => ({ op: 'put', kind, namespace, name, item }) as Change;
const ns = (name: string) => put('namespace', name, name, parseNamespace({ name }));
const service = (namespace: string, name: string, urls: string[]) => put('service', namespace, name, parseService({ name, namespace, urls }, {}));
const route = (namespace: string, name: string, path: string, svc = 'svc') =>
  put('route', namespace, name, parseRoute({ name, namespace, paths: [path], methods: ['GET'], service: svc }, {}));

function base(): State {
  return State.empty().applyChanges(
    [
      ns('a'),
      ns('b'),
      service('a', 'svc', ['http://127.0.0.1:1', 'http://127.0.0.1:2']),
      service('b', 'svc', ['http://127.0.0.1:3']),
      route('a', 'r1', '/one'),
      route('b', 'r2', '/two'),
      put('collection', 'a', 'c', parseCollection({ name: 'c', namespace: 'a' }, {})),
    ],
    1,
  );
}

function builder(): { b: TableBuilder<string>; pools: PoolSettings[] } {
  const pools: PoolSettings[] = [];
  const host = (namespace: string): ModuleHost => ({ namespace, state: () => State.empty(), write: () => Promise.reject(new Error('no')), log: () => {}, fetchTimeoutMs: 1000, cache: new Map() });
  const b = new TableBuilder<string>({ defaultNamespace: false, allowedDomains: [], redirectHttps: [] }, { pool: (s) => (pools.push(s), s.origin) }, new ModuleSets(host));
  return { b, pools };
}

function apply(b: TableBuilder<string>, state: State): RuntimeTable<string> {
  const c = b.prepare(state);
  c.accept();
  return c.table;
}

describe('TableBuilder', () => {
  test('a document write rebuilds no router, resolver or service', () => {
    const { b, pools } = builder();
    const s1 = base();
    const t1 = apply(b, s1);
    const opened = pools.length;
    const doc = parseDocument({ x: 1 }, { id: 'd1', namespace: 'a', collection: 'c', previous: undefined, now: new Date(0) });
    const t2 = apply(b, s1.applyChanges([put('document', 'a', 'c/d1', doc)], 2));
    assert.equal(t2.rev, 2);
    assert.equal(t2.namespaces, t1.namespaces, 'the same namespace map');
    assert.equal(t2.resolver, t1.resolver, 'the same host resolver');
    assert.equal(t2.namespaces.get('a')!.router, t1.namespaces.get('a')!.router);
    assert.equal(pools.length, opened, 'no pool asked for');
  });

  test('a route write in namespace a updates a\'s router in place and leaves namespace b untouched', () => {
    const { b } = builder();
    const s1 = base();
    const t1 = apply(b, s1);
    const r1 = t1.namespaces.get('a')!.router!.find('GET', '/one');
    assert.equal(r1.kind, 'found');
    const c2 = b.prepare(s1.applyChanges([route('a', 'r3', '/three')], 2));
    assert.equal(c2.table.namespaces.get('a')!.router!.find('GET', '/three').kind, 'not-found', 'nothing changes before accept');
    c2.accept();
    const t2 = c2.table;
    assert.equal(t2.namespaces.get('b'), t1.namespaces.get('b'), "b's runtime is the same object");
    assert.equal(t2.namespaces.get('b')!.router, t1.namespaces.get('b')!.router);
    assert.equal(t2.namespaces.get('a')!.router!.find('GET', '/three').kind, 'found');
    const again = t2.namespaces.get('a')!.router!.find('GET', '/one');
    assert.equal(again.kind === 'found' && r1.kind === 'found' && again.value === r1.value, true, 'the untouched route keeps its runtime');
    assert.equal(t2.namespaces.get('a')!.services.get('svc'), t1.namespaces.get('a')!.services.get('svc'), 'the unchanged service keeps its runtime');
  });

  test('a route delete or rename stops serving the old path, and a hidden registration answers again', () => {
    const { b } = builder();
    const s1 = base().applyChanges([route('a', 'z-late', '/one', 'svc')], 2);
    const t1 = apply(b, s1);
    const winner = t1.namespaces.get('a')!.router!.find('GET', '/one');
    assert.equal(winner.kind === 'found' && winner.value.name, 'z-late', 'the later name wins');
    const s2 = s1.applyChanges([{ op: 'delete', kind: 'route', namespace: 'a', name: 'z-late' }], 3);
    const t2 = apply(b, s2);
    const back = t2.namespaces.get('a')!.router!.find('GET', '/one');
    assert.equal(back.kind === 'found' && back.value.name, 'r1');
    const t3 = apply(b, s2.applyChanges([{ op: 'delete', kind: 'route', namespace: 'a', name: 'r1' }, route('a', 'r1b', '/uno')], 4));
    assert.equal(t3.namespaces.get('a')!.router!.find('GET', '/one').kind, 'not-found');
    assert.equal(t3.namespaces.get('a')!.router!.find('GET', '/uno').kind, 'found');
  });

  test('round-robin keeps its position across an unrelated write, and restarts when the service changes', () => {
    const { b } = builder();
    const s1 = base();
    const t1 = apply(b, s1);
    const svc1 = t1.namespaces.get('a')!.services.get('svc')!;
    assert.equal(svc1.next().origin, 'http://127.0.0.1:1');
    const s2 = s1.applyChanges([route('b', 'r4', '/four')], 2);
    const t2 = apply(b, s2);
    assert.equal(t2.namespaces.get('a')!.services.get('svc')!.next().origin, 'http://127.0.0.1:2', 'continues with the second URL');
    // Re-put with the same definition (a new object): still the same runtime.
    const s3 = s2.applyChanges([service('a', 'svc', ['http://127.0.0.1:1', 'http://127.0.0.1:2']), route('a', 'r1', '/uno')], 3);
    const t3 = apply(b, s3);
    assert.equal(t3.namespaces.get('a')!.services.get('svc'), svc1);
    const t4 = apply(b, s3.applyChanges([service('a', 'svc', ['http://127.0.0.1:5'])], 4));
    assert.notEqual(t4.namespaces.get('a')!.services.get('svc'), svc1);
    assert.equal(t4.namespaces.get('a')!.router!.find('GET', '/uno').kind, 'found');
  });

  test('a domain write rebuilds the resolver only', () => {
    const { b } = builder();
    const s1 = base();
    const t1 = apply(b, s1);
    const t2 = apply(b, s1.applyChanges([put('domain', 'b', 'd', parseDomain({ name: 'd', namespace: 'b', patterns: ['b.example'] }, {}))], 2));
    assert.notEqual(t2.resolver, t1.resolver);
    assert.equal(t2.resolver.resolve('b.example'), 'b');
    assert.equal(t2.namespaces, t1.namespaces);
  });

  test('a state the builder cannot relate to its previous one (a reload) is built whole, keeping equal services', () => {
    const { b } = builder();
    const s1 = base();
    const t1 = apply(b, s1);
    const reloaded = State.fromItems(1, [...s1.entries()]);
    const t2 = apply(b, reloaded);
    assert.notEqual(t2.namespaces.get('b'), t1.namespaces.get('b'));
    assert.equal(t2.namespaces.get('a')!.services.get('svc'), t1.namespaces.get('a')!.services.get('svc'));
  });

  test('a prepared table that is not accepted changes nothing', () => {
    const { b } = builder();
    const s1 = base();
    const t1 = apply(b, s1);
    b.prepare(s1.applyChanges([route('a', 'r9', '/nine')], 2));
    const t2 = apply(b, s1.applyChanges([put('document', 'a', 'c/x', parseDocument({}, { id: 'x', namespace: 'a', collection: 'c', previous: undefined, now: new Date(0) }))], 2));
    assert.equal(t2.namespaces, t1.namespaces);
    assert.equal(t2.namespaces.get('a')!.router!.find('GET', '/nine').kind, 'not-found');
  });

  test('a route the router refuses fails prepare and leaves the table serving', () => {
    const { b } = builder();
    const s1 = base();
    const t1 = apply(b, s1);
    assert.throws(() => b.prepare(s1.applyChanges([put('route', 'a', 'bad', { ...parseRoute({ name: 'bad', namespace: 'a', paths: ['/ok'], methods: ['GET'], service: 'svc' }, {}), paths: ['/{x:(}'] })], 2)));
    assert.equal(t1.namespaces.get('a')!.router!.find('GET', '/one').kind, 'found');
  });

  test('a checking builder (routers: false) refuses what a serving one refuses, and routes nothing', () => {
    const host = (namespace: string): ModuleHost => ({ namespace, state: () => State.empty(), write: () => Promise.reject(new Error('no')), log: () => {}, fetchTimeoutMs: 1000, cache: new Map() });
    const b = new TableBuilder<string>({ defaultNamespace: false, allowedDomains: [], redirectHttps: [] }, { pool: (s) => s.origin }, new ModuleSets(host), { routers: false });
    const s1 = base();
    const t1 = apply(b, s1);
    assert.equal(t1.namespaces.get('a')!.router, null);
    assert.deepEqual([...t1.namespaces.get('a')!.services.keys()], ['svc']);
    const bad = { ...parseRoute({ name: 'bad', namespace: 'a', paths: ['/ok'], methods: ['GET'], service: 'svc' }, {}), paths: ['/{x:(}'] };
    assert.throws(() => b.prepare(s1.applyChanges([put('route', 'a', 'bad', bad)], 2)), /x/);
    // an incremental write after a refused one is checked against the accepted table
    const s2 = s1.applyChanges([route('a', 'r3', '/three')], 2);
    const t2 = apply(b, s2);
    assert.equal(t2.namespaces.get('a')!.router, null);
    assert.throws(() => b.prepare(s2.applyChanges([put('route', 'a', 'r3', bad)], 3)));
  });
});

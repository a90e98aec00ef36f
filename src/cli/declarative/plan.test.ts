import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandError } from '../command-error.js';
import { findSpec } from '../resources/index.js';
import type { CurrentState } from './current-state.js';
import type { Entry } from './entry.js';
import { identityOf, keyOf } from './entry.js';
import { planApply, type Step } from './plan.js';

function entry(kind: string, item: Record<string, unknown>): Entry {
  const spec = findSpec(kind)!;
  const full = kind === 'namespace' ? item : { namespace: 'app', ...item };
  const id = identityOf(spec, full)!;
  return { spec, namespace: id.namespace, name: id.name, item: full };
}

function state(entries: Entry[], privateCollections: string[] = []): CurrentState {
  return {
    entries: new Map(entries.map((e) => [keyOf(e), e])),
    privateCollections: new Set(privateCollections),
  };
}

const summary = (steps: Step[]) => steps.map((s) => `${s.action} ${s.entry.spec.kind} ${s.entry.name}${s.action === 'update' ? ` (${s.fields.join(',')})` : ''}`);

test('creates and updates in dependency order, whatever the order of the file', () => {
  const wanted = [
    entry('route', { name: 'r', paths: ['/'], methods: ['GET'], service: 's' }),
    entry('service', { name: 's', urls: ['http://b'] }),
    entry('namespace', { name: 'app' }),
  ];
  const current = state([entry('namespace', { name: 'app' }), entry('service', { name: 's', urls: ['http://a'], retries: 3 })]);
  assert.deepEqual(summary(planApply(wanted, current, false)), ['unchanged namespace app', 'update service s (urls)', 'create route r']);
});

test('prune deletes in reverse dependency order, only in named namespaces, never namespaces', () => {
  const wanted = [entry('service', { name: 's', urls: ['http://a'] })];
  const current = state([
    entry('namespace', { name: 'app' }),
    entry('service', { name: 's', urls: ['http://a'] }),
    entry('module', { name: 'm', payload: 'eA==' }),
    entry('route', { name: 'r', paths: ['/'], methods: ['GET'], modules: ['m'] }),
    entry('service', { name: 'elsewhere', namespace: 'other', urls: ['http://a'] }),
  ]);
  assert.deepEqual(summary(planApply(wanted, current, true)), ['unchanged service s', 'delete route r', 'delete module m']);
});

test('documents compare by data only; in private collections they cannot be compared', () => {
  const doc = (data: unknown, extra = {}) => entry('document', { id: 'd', collection: 'c', data, ...extra });
  const current = state([doc({ a: 1 }, { createdAt: 'x', updatedAt: 'y' })]);
  assert.deepEqual(summary(planApply([doc({ a: 1 })], current, false)), ['unchanged document c/d']);
  assert.deepEqual(summary(planApply([doc({ a: 2 })], current, false)), ['update document c/d (data)']);
  assert.deepEqual(summary(planApply([doc(1)], state([], ['app/c']), false)), ['write document c/d']);
});

test('secrets: a value is always written; the placeholder keeps the stored value', () => {
  const stored = state([entry('secret', { name: 'k', data: '**redacted**', tags: ['t'] })]);
  assert.deepEqual(summary(planApply([entry('secret', { name: 'k', data: 'v' })], stored, false)), ['write secret k']);
  assert.deepEqual(summary(planApply([entry('secret', { name: 'k', data: 'v' })], state([]), false)), ['create secret k']);
  assert.deepEqual(summary(planApply([entry('secret', { name: 'k', data: '**redacted**', tags: ['t'] })], stored, false)), ['unchanged secret k']);
  assert.throws(() => planApply([entry('secret', { name: 'k', data: '**redacted**' })], stored, false), (e: unknown) =>
    e instanceof CommandError && e.message === 'secret app/k: tags changed but data is the placeholder "**redacted**"; put the secret\'s value in the file to update it');
  assert.throws(() => planApply([entry('secret', { name: 'k', data: '**redacted**' })], state([]), false), CommandError);
});

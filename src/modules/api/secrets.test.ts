import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as secretsApi from './secrets.js';
import { createTestHost } from './test-host.js';

const host = await createTestHost();
const s = secretsApi.create(host) as Record<string, any>;

test('name is dgate/secrets', () => {
  assert.equal(secretsApi.name, 'dgate/secrets');
});

test('getSecret returns the plain text of a secret of the module\'s namespace, synchronously', () => {
  assert.equal(s.getSecret('api-key'), 's3cr3t');
  assert.equal(s.hasSecret('api-key'), true);
});

test('a missing secret is null / false; another namespace\'s secrets are not visible', async () => {
  assert.equal(s.getSecret('nope'), null);
  assert.equal(s.hasSecret('nope'), false);
  const elsewhere = secretsApi.create(await createTestHost({ namespace: 'third' })) as Record<string, any>;
  assert.equal(elsewhere.getSecret('api-key'), null);
  const other = secretsApi.create({ ...host, namespace: 'other' }) as Record<string, any>;
  assert.equal(other.getSecret('api-key'), 'not yours');
});

test('a secret written after the module was loaded is read from the latest state', async () => {
  await host.write(() => [{ op: 'put', kind: 'secret', namespace: 'ns1', name: 'later', item: { name: 'later', namespace: 'ns1', data: 'v2' } }]);
  assert.equal(s.getSecret('later'), 'v2');
  await host.write(() => [{ op: 'delete', kind: 'secret', namespace: 'ns1', name: 'later' }]);
  assert.equal(s.hasSecret('later'), false);
});

test('a name that is not a string throws a TypeError', () => {
  assert.throws(() => s.getSecret(undefined), TypeError);
  assert.throws(() => s.hasSecret(1), TypeError);
});

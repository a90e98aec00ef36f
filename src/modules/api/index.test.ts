import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILTINS, builtinNames } from './index.js';
import { createTestHost } from './test-host.js';

test('the built-ins are dgate and dgate/{http,crypto,state,storage,util,secrets}', () => {
  assert.deepEqual([...builtinNames].sort(), ['dgate', 'dgate/crypto', 'dgate/http', 'dgate/secrets', 'dgate/state', 'dgate/storage', 'dgate/util']);
  assert.deepEqual(BUILTINS.map((b) => b.name), builtinNames);
});

test('each create(host) returns a fresh object of functions or sub-objects', async () => {
  const host = await createTestHost();
  for (const b of BUILTINS) {
    const exports = b.create(host);
    assert.notEqual(exports, b.create(host), b.name);
    assert.ok(Object.keys(exports).length > 0, b.name);
    for (const [key, value] of Object.entries(exports)) assert.ok(['function', 'object'].includes(typeof value), `${b.name}.${key}`);
  }
});

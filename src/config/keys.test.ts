import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flattenKeys } from './keys.js';

test('flattenKeys lists every key with a description, for docs', () => {
  const rows = flattenKeys();
  const byPath = new Map(rows.map((r) => [r.path, r]));
  assert.ok(rows.every((r) => r.doc.length > 0));
  assert.deepEqual(byPath.get('proxy.port'), { path: 'proxy.port', kind: 'int', default: '8080', doc: 'listen port' });
  assert.equal(byPath.get('proxy.client_transport.dial_timeout')?.default, '10000ms');
  assert.equal(byPath.get('proxy.workers')?.default, 'number of CPU cores');
  assert.equal(byPath.get('node_id')?.default, 'env DGATE_NODE_ID, else the host name');
  assert.equal(byPath.get('test_server.port')?.default, 'required');
  assert.equal(byPath.get('admin.basic_auth.users[].username')?.kind, 'string');
  assert.equal(byPath.get('proxy.tls')?.kind, 'section');
  assert.equal(byPath.get('admin.tls.auto_generate')?.default, 'false');
});

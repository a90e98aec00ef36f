import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Change } from '../core/change.js';
import { FIXED_NOW, startAdmin } from './harness.js';

test('GET /api/v1/cluster on a single node lists that node with the revision it serves', async () => {
  const admin = await startAdmin();
  try {
    const r = await admin.call('GET', '/api/v1/cluster');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      count: 1,
      data: [
        {
          id: 'test-node',
          address: 'http://127.0.0.1:9080',
          tags: ['t1'],
          version: 'test',
          watchOnly: false,
          rev: 0,
          error: null,
          lastSeen: FIXED_NOW.toISOString(),
          startedAt: FIXED_NOW.toISOString(),
          status: 'ok',
        },
      ],
      node: 'test-node',
      rev: 0,
      status_code: 200,
    });
    await admin.seed(['namespace', { name: 'a' }], ['namespace', { name: 'b' }]);
    const after = (await admin.call('GET', '/api/v1/cluster')).json;
    assert.equal(after.rev, 2);
    assert.equal(after.data[0].rev, 2);
    assert.equal((await admin.call('PUT', '/api/v1/cluster', {})).status, 405);
  } finally {
    await admin.close();
  }
});

test('every successful write answers with X-DGate-Revision, the revision it made live', async () => {
  const admin = await startAdmin();
  try {
    const put = await admin.call('PUT', '/api/v1/namespace', { name: 'ns1' });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('x-dgate-revision'), '1');
    const col = await admin.call('PUT', '/api/v1/collection', { name: 'c', namespace: 'ns1' });
    assert.equal(col.headers.get('x-dgate-revision'), '2');
    const doc = await admin.call('PUT', '/api/v1/document/d1?namespace=ns1&collection=c', { x: 1 });
    assert.equal(doc.status, 201);
    assert.equal(doc.headers.get('x-dgate-revision'), '3');
    const del = await admin.call('DELETE', '/api/v1/document/d1?namespace=ns1&collection=c');
    assert.equal(del.status, 204);
    assert.equal(del.headers.get('x-dgate-revision'), '4');
    assert.equal(await admin.rev(), 4);

    // Refused writes and reads carry no revision.
    const refused = await admin.call('PUT', '/api/v1/service', { name: 's', namespace: 'ns1', urls: ['ftp://x'] });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('x-dgate-revision'), null);
    assert.equal((await admin.call('GET', '/api/v1/namespace')).headers.get('x-dgate-revision'), null);
    // A write that changes nothing answers with the revision already served.
    const again = await admin.call('DELETE', '/api/v1/document?namespace=ns1&collection=c');
    assert.ok(again.status < 300, `${again.status} ${again.text}`);
    assert.equal(again.headers.get('x-dgate-revision'), String(await admin.rev()));
  } finally {
    await admin.close();
  }
});

test('admin.watch_only: every write is refused with 403 naming the setting; reads work; nothing changes', async () => {
  const admin = await startAdmin({ watchOnly: true });
  try {
    // State arrives through the write path (as it does from the shared store), not the API.
    const seed: Change[] = [
      { op: 'put', kind: 'namespace', namespace: 'ns1', name: 'ns1', item: { name: 'ns1' } },
      { op: 'put', kind: 'service', namespace: 'ns1', name: 's', item: { name: 's', namespace: 'ns1', urls: ['http://127.0.0.1:1'] } as never },
      { op: 'put', kind: 'collection', namespace: 'ns1', name: 'c', item: { name: 'c', namespace: 'ns1', schema: {}, visibility: 'public', type: 'document' } as never },
    ];
    await admin.writer.write(() => seed);
    const before = await admin.rev();
    const writes: Array<[string, string, unknown?]> = [
      ['PUT', '/api/v1/namespace', { name: 'x' }],
      ['DELETE', '/api/v1/namespace/ns1'],
      ['DELETE', '/api/v1/namespace', { name: 'ns1' }],
      ['PUT', '/api/v1/service', { name: 's2', namespace: 'ns1', urls: ['http://127.0.0.1:2'] }],
      ['DELETE', '/api/v1/service/s?namespace=ns1'],
      ['PUT', '/api/v1/route', { name: 'r', namespace: 'ns1', paths: ['/'], methods: ['GET'] }],
      ['DELETE', '/api/v1/route/r?namespace=ns1'],
      ['PUT', '/api/v1/module', { name: 'm', namespace: 'ns1', payload: '' }],
      ['PUT', '/api/v1/domain', { name: 'd', namespace: 'ns1', patterns: ['a.example'] }],
      ['PUT', '/api/v1/collection', { name: 'c2', namespace: 'ns1' }],
      ['DELETE', '/api/v1/collection/c?namespace=ns1'],
      ['PUT', '/api/v1/secret', { name: 'k', namespace: 'ns1', data: 'x' }],
      ['PUT', '/api/v1/document/d1?namespace=ns1&collection=c', { a: 1 }],
      ['DELETE', '/api/v1/document/d1?namespace=ns1&collection=c'],
      ['DELETE', '/api/v1/document?namespace=ns1&collection=c'],
    ];
    for (const [method, path, body] of writes) {
      const r = await admin.call(method, path, body);
      assert.equal(r.status, 403, `${method} ${path}: ${r.status} ${r.text}`);
      assert.equal(r.json.code, 'DG_ERR_WATCH_ONLY');
      assert.match(r.json.error, /admin\.watch_only/);
      assert.equal(r.headers.get('x-dgate-revision'), null);
    }
    assert.equal(await admin.rev(), before, 'nothing was committed');
    assert.equal((await admin.store.load()).rev, before);

    const ns = await admin.call('GET', '/api/v1/namespace/ns1');
    assert.equal(ns.status, 200);
    assert.equal(ns.json.data.name, 'ns1');
    assert.equal((await admin.call('GET', '/api/v1/service?namespace=ns1')).json.count, 1);
    assert.equal((await admin.call('GET', '/')).headers.get('x-dgate-watchonly'), 'true');
    const cluster = (await admin.call('GET', '/api/v1/cluster')).json;
    assert.equal(cluster.data[0].watchOnly, true);
    // Unknown paths and methods still answer 404 / 405 first.
    assert.equal((await admin.call('PUT', '/api/v1/nothing', {})).status, 404);
    assert.equal((await admin.call('PATCH', '/api/v1/namespace', {})).status, 405);
  } finally {
    await admin.close();
  }
});

test('GET / says X-DGate-WatchOnly: false on a node that takes writes', async () => {
  const admin = await startAdmin();
  try {
    assert.equal((await admin.call('GET', '/')).headers.get('x-dgate-watchonly'), 'false');
  } finally {
    await admin.close();
  }
});

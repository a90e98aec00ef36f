import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startAdmin } from './harness.js';

test('GET / is plain text with the revision in X-DGate-ChangeHash', async () => {
  const admin = await startAdmin();
  try {
    const r = await admin.call('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'DGate Admin API');
    assert.match(r.headers.get('content-type')!, /^text\/plain/);
    assert.equal(r.headers.get('x-dgate-changehash'), '0');
    await admin.seed(['namespace', { name: 'a' }]);
    assert.equal((await admin.call('GET', '/')).headers.get('x-dgate-changehash'), '1');
  } finally {
    await admin.close();
  }
});

test('/changelog reports the revision, and with ?from= the committed batches', async () => {
  const admin = await startAdmin();
  try {
    assert.deepEqual((await admin.call('GET', '/changelog')).json, { count: 0, latest: '0', rev: 0 });
    await admin.seed(['namespace', { name: 'a' }], ['namespace', { name: 'b' }], ['namespace', { name: 'c' }]);
    const r = await admin.call('GET', '/changelog?from=2&limit=1');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json), ['changes', 'count', 'latest', 'rev']);
    assert.equal(r.json.rev, 3);
    assert.equal(r.json.latest, '3');
    assert.equal(r.json.changes.length, 1);
    assert.equal(r.json.changes[0].rev, 2);
    assert.deepEqual(r.json.changes[0].changes, [{ op: 'put', kind: 'namespace', namespace: 'b', name: 'b', item: { name: 'b' } }]);
    assert.equal((await admin.call('GET', '/changelog?from=1')).json.changes.length, 3);
    const bad = await admin.call('GET', '/changelog?from=x');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, `from: must be an integer between 0 and ${Number.MAX_SAFE_INTEGER}`);
    assert.equal((await admin.call('GET', '/changelog?from=1&limit=5000')).json.error, 'limit: must be an integer between 0 and 1000');
  } finally {
    await admin.close();
  }
});

test('/healthz is always 200 with the version', async () => {
  const admin = await startAdmin({ version: '1.2.3', ready: () => false });
  try {
    const r = await admin.call('GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok', version: '1.2.3' });
  } finally {
    await admin.close();
  }
});

test('/readyz is 503 until ready, then 200; writes wait for readiness too', async () => {
  let ready = false;
  const admin = await startAdmin({ version: '1.2.3', ready: () => ready });
  try {
    const r = await admin.call('GET', '/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(r.json, { status: 'not ready' });
    const write = await admin.call('PUT', '/api/v1/namespace', { name: 'a' });
    assert.equal(write.status, 503);
    assert.equal(write.json.error, 'proxy state not ready');
    ready = true;
    assert.deepEqual((await admin.call('GET', '/readyz')).json, { status: 'ok', version: '1.2.3' });
    assert.equal((await admin.call('PUT', '/api/v1/namespace', { name: 'a' })).status, 201);
  } finally {
    await admin.close();
  }
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AdminHarness } from './harness.js';
import { b64, startAdmin } from './harness.js';

let admin: AdminHarness;
before(async () => (admin = await startAdmin()));
after(() => admin.close());

test('PUT /module stores the payload without line breaks and answers moduleType', async () => {
  const payload = b64('export const requestHandler = (ctx) => ctx.response().status(204);');
  const wrapped = `${payload.slice(0, 20)}\r\n${payload.slice(20)}`;
  const r = await admin.call('PUT', '/api/v1/module', { name: 'm1', payload: wrapped });
  assert.equal(r.status, 201);
  assert.deepEqual(r.json.data, { name: 'm1', namespace: 'default', payload, moduleType: 'typescript' });
  const js = await admin.call('PUT', '/api/v1/module', { name: 'm2', payload, moduleType: 'javascript', tags: ['t'] });
  assert.deepEqual((await admin.call('GET', '/api/v1/module/m2')).json.data, js.json.data);
  assert.deepEqual((await admin.call('GET', '/api/v1/module')).json.data.map((m: { moduleType: string }) => m.moduleType), ['typescript', 'javascript']);
});

test('invalid modules are 400 naming the field', async () => {
  const cases: Array<[object, string]> = [
    [{ name: 'm3' }, 'payload: is required'],
    [{ name: 'm3', payload: 42 }, 'payload: must be a string'],
    [{ name: 'm3', payload: 'not base64!' }, 'payload: must be standard base64 (with padding)'],
    [{ name: 'm3', payload: Buffer.from([0xff, 0xfe]).toString('base64') }, 'payload: must be the base64 of UTF-8 text'],
    [{ name: 'm3', payload: b64('x'), moduleType: 'lua' }, 'moduleType: must be "typescript" or "javascript"'],
    [{ name: 'm 3', payload: b64('x') }, 'name: must be 1-128 characters without "/", whitespace or control characters'],
  ];
  for (const [body, message] of cases) {
    const r = await admin.call('PUT', '/api/v1/module', body);
    assert.equal(r.status, 400, message);
    assert.equal(r.json.error, message);
  }
  assert.equal((await admin.call('GET', '/api/v1/module/m3')).status, 404);
});

test('DELETE /module by body and by path', async () => {
  assert.equal((await admin.call('DELETE', '/api/v1/module', { name: 'm1' })).status, 204);
  assert.equal((await admin.call('DELETE', '/api/v1/module/m2?namespace=default')).status, 204);
  assert.equal((await admin.call('DELETE', '/api/v1/module/m2')).json.error, 'module not found: m2');
});

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import type { AdminHarness } from './harness.js';
import { startAdmin } from './harness.js';

let admin: AdminHarness;
before(async () => (admin = await startAdmin()));
after(() => admin.close());

test('malformed JSON is 400 "error unmarshalling body: <parser message>"', async () => {
  const r = await admin.call('PUT', '/api/v1/namespace', '{"name": "x",');
  assert.equal(r.status, 400);
  assert.match(r.json.error, /^error unmarshalling body: .+/);
  assert.equal(r.json.code, 'DG_ERR_BAD_JSON');
  assert.ok(r.text.endsWith('}\n'));
});

test('a body that is not an object, or no body, is 400', async () => {
  for (const body of ['[1,2]', '"name"', '42', 'null', '']) {
    const r = await admin.call('PUT', '/api/v1/service', body);
    assert.equal(r.status, 400, body);
    assert.equal(r.json.error, 'body: must be a JSON object');
  }
  const del = await admin.call('DELETE', '/api/v1/route');
  assert.equal(del.status, 400);
  assert.match(del.json.error, /^body: must be a JSON object/);
});

test('errors have the shape {error, status, code} in that order', async () => {
  const r = await admin.call('GET', '/api/v1/route/nope');
  assert.deepEqual(Object.keys(r.json), ['error', 'status', 'code']);
  assert.equal(r.headers.get('content-type'), 'application/json');
});

test('an unknown path is 404 "404 page not found"', async () => {
  for (const path of ['/nope', '/api/v1/widget', '/api/v1/route/a/b', '/api/v2/route']) {
    const r = await admin.call('GET', path);
    assert.equal(r.status, 404, path);
    assert.equal(r.json.error, '404 page not found');
  }
});

test('a wrong method is 405 with an Allow header', async () => {
  const r = await admin.call('POST', '/api/v1/route', {});
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, PUT, DELETE');
  assert.equal(r.json.code, 'DG_ERR_METHOD_NOT_ALLOWED');
  const one = await admin.call('PUT', '/api/v1/route/r1', {});
  assert.equal(one.status, 405);
  assert.equal(one.headers.get('allow'), 'GET, DELETE');
  assert.equal((await admin.call('PATCH', '/api/v1/document/x', {})).headers.get('allow'), 'PUT, GET, DELETE');
});

test('path names are percent-decoded', async () => {
  await admin.seed(['namespace', { name: 'ünï' }]);
  assert.equal((await admin.call('GET', `/api/v1/namespace/${encodeURIComponent('ünï')}`)).json.data.name, 'ünï');
});

test('a 17 MiB body sent whole is answered 413', async () => {
  const r = await admin.call('PUT', '/api/v1/namespace', Buffer.alloc(17 * 1024 * 1024, 0x20).toString());
  assert.equal(r.status, 413);
  assert.equal(r.json.code, 'DG_ERR_BODY_TOO_LARGE');
});

test('a body over 16 MiB is 413 and the connection is closed', async () => {
  const size = 100 * 1024 * 1024;
  const res = await new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
    const req = request(`${admin.url}/api/v1/namespace`, { method: 'PUT', headers: { 'Content-Length': String(size) } }, (r) => {
      let body = '';
      r.on('data', (c) => (body += c)).on('end', () => resolve({ status: r.statusCode!, body, connection: r.headers.connection }));
    });
    req.on('error', reject);
    req.end(Buffer.alloc(1024, 0x20)); // far over the limit: answered on the declared length alone
  });
  assert.equal(res.status, 413);
  assert.equal(JSON.parse(res.body).error, 'request body larger than 16777216 bytes');
  assert.equal(res.connection, 'close');
});

test('a body growing over 16 MiB while streaming is 413, read to its end so the client sees the answer', async () => {
  const res = await new Promise<number>((resolve, reject) => {
    const req = request(`${admin.url}/api/v1/namespace`, { method: 'PUT' }, (r) => {
      r.resume();
      resolve(r.statusCode!);
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < 17) {
        sent++;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  assert.equal(res, 413);
});

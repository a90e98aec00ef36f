/**
 * The client's HTTP behaviour, against a small recording server: paths and queries, headers,
 * how answers and errors are read, redirects and connection failures. (The CLI tests run it
 * against the real gateway.)
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { AdminClient } from './admin-client.js';
import { AdminApiError, AdminConnectionError, AdminRedirectError } from './errors.js';
import type { RequestRecord } from './types.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Answer = { status: number; body?: string; headers?: Record<string, string> };

let server: Server;
let base: string;
let seen: Seen[] = [];
let answers: Array<(req: Seen) => Answer> = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      const answer: Answer = (answers.shift() ?? (() => ({ status: 200, body: '{"data":null}' })))(s);
      res.writeHead(answer.status, answer.headers).end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise((r) => server.close(r)));
beforeEach(() => {
  seen = [];
  answers = [];
});

const json = (status: number, value: unknown): Answer => ({ status, body: JSON.stringify(value), headers: { 'content-type': 'application/json' } });

test('put sends the item as JSON and resolves with data', async () => {
  answers.push(() => json(201, { data: { name: 'r', namespace: 'n' }, status_code: 201 }));
  const client = new AdminClient({ baseUrl: `${base}/` });
  assert.deepEqual(await client.put('route', { name: 'r', namespace: 'n', paths: ['/'] }), { name: 'r', namespace: 'n' });
  assert.equal(seen[0]!.method, 'PUT');
  assert.equal(seen[0]!.url, '/api/v1/route');
  assert.equal(seen[0]!.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(seen[0]!.body), { name: 'r', namespace: 'n', paths: ['/'] });
});

test('names are path-encoded; namespaces take no namespace parameter; an absent namespace is not sent', async () => {
  const client = new AdminClient({ baseUrl: base });
  await client.get('service', 'a b', 'ns/1');
  await client.delete('namespace', 'x');
  await client.list('route');
  await client.deleteDocument('d', 'c');
  assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), [
    'GET /api/v1/service/a%20b?namespace=ns%2F1',
    'DELETE /api/v1/namespace/x',
    'GET /api/v1/route',
    'DELETE /api/v1/document/d?collection=c',
  ]);
});

test('documents: PUT body is the data; a page carries total, limit and offset; allDocuments pages through', async () => {
  answers.push(() => json(201, { data: { id: 'd' } }));
  const client = new AdminClient({ baseUrl: base });
  await client.putDocument({ id: 'd', collection: 'c', namespace: 'n', data: [1, 2] });
  assert.equal(seen[0]!.url, '/api/v1/document/d?namespace=n&collection=c');
  assert.equal(seen[0]!.body, '[1,2]');

  const page = (offset: number, n: number) => () => json(200, { data: Array.from({ length: n }, (_, i) => ({ id: `d${offset + i}` })), total: 1500, limit: 1000, offset });
  answers.push(page(0, 1000), page(1000, 500));
  const all = await client.allDocuments('c', 'n');
  assert.equal(all.length, 1500);
  assert.deepEqual(seen.slice(1).map((s) => s.url), ['/api/v1/document?namespace=n&collection=c&limit=1000&offset=0', '/api/v1/document?namespace=n&collection=c&limit=1000&offset=1000']);
});

test('auth: basic credentials, or a key in X-DGate-Key or a chosen header', async () => {
  await new AdminClient({ baseUrl: base, auth: { username: 'u', password: 'p:w' } }).list('namespace');
  await new AdminClient({ baseUrl: base, auth: { key: 'k' } }).list('namespace');
  await new AdminClient({ baseUrl: base, auth: { key: 'k', header: 'X-Api-Key' } }).list('namespace');
  assert.equal(seen[0]!.headers.authorization, `Basic ${Buffer.from('u:p:w').toString('base64')}`);
  assert.equal(seen[1]!.headers['x-dgate-key'], 'k');
  assert.equal(seen[2]!.headers['x-api-key'], 'k');
});

test('errors carry the status, the server’s message and code; a non-JSON body is the message', async () => {
  answers.push(() => json(422, { error: 'service not found: s', status: 422, code: 'DG_ERR_REFERENCE_MISSING' }));
  answers.push(() => ({ status: 401, body: 'Unauthorized\n' }));
  const client = new AdminClient({ baseUrl: base });
  await assert.rejects(client.put('route', { name: 'r' }), (e: unknown) => {
    assert.ok(e instanceof AdminApiError);
    assert.deepEqual([e.status, e.serverMessage, e.code, e.message], [422, 'service not found: s', 'DG_ERR_REFERENCE_MISSING', '422 error from server: service not found: s']);
    return true;
  });
  await assert.rejects(client.list('namespace'), (e: unknown) => e instanceof AdminApiError && e.serverMessage === 'Unauthorized');
});

test('redirects: refused unless followed; followed hops are each reported; loops end', async () => {
  answers.push(() => ({ status: 307, headers: { location: '/elsewhere' } }));
  await assert.rejects(new AdminClient({ baseUrl: base }).put('namespace', { name: 'n' }), (e: unknown) => e instanceof AdminRedirectError && e.location === '/elsewhere');

  const records: RequestRecord[] = [];
  const leaderHost = new URL(base).host;
  answers.push(() => ({ status: 307, headers: { location: `//${leaderHost}/api/v1/namespace?via=leader` } }));
  answers.push(() => json(201, { data: { name: 'n' } }));
  const client = new AdminClient({ baseUrl: base, followRedirects: true, onRequest: (r) => records.push(r) });
  assert.deepEqual(await client.put('namespace', { name: 'n' }), { name: 'n' });
  assert.equal(seen[2]!.body, '{"name":"n"}', 'the body is sent again');
  assert.deepEqual(records.map((r) => `${r.method} ${r.url.replace(base, '')} ${r.status}`), ['PUT /api/v1/namespace 307', 'PUT /api/v1/namespace?via=leader 201']);

  for (let i = 0; i < 20; i++) answers.push(() => ({ status: 302, headers: { location: '/again' } }));
  await assert.rejects(client.list('namespace'), (e: unknown) => e instanceof AdminRedirectError && e.message === 'more than 10 redirects from server');
});

test('a server that does not answer: AdminConnectionError with the reason, reported without a status', async () => {
  // port 2: binding it takes privileges and tests bind port 0 only, so nothing listens there (port 1 is a fetch "bad port")
  const port = 2;
  const records: RequestRecord[] = [];
  const client = new AdminClient({ baseUrl: `http://127.0.0.1:${port}`, onRequest: (r) => records.push(r) });
  await assert.rejects(client.changelog(), (e: unknown) => {
    assert.ok(e instanceof AdminConnectionError);
    assert.equal(e.message, `cannot reach the admin API at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
    return true;
  });
  assert.equal(records[0]!.status, null);
});

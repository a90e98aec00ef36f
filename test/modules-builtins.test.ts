/**
 * The built-in imports (`dgate`, `dgate/http`, `dgate/crypto`, `dgate/state`, `dgate/storage`,
 * `dgate/secrets`) and the globals, as module code on the request path uses them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { closeGateway, scope, sendJson, startUpstream, type Scope, type Upstream } from './support/modules-harness.js';
import { until } from './support/until.js';

let gw: TestGateway;
const upstreams: Upstream[] = [];

before(async () => {
  gw = await startTestGateway();
});
after(async () => {
  await closeGateway(gw);
  for (const u of upstreams) await u.close();
});

/** A namespace whose module `m` is the requestHandler of /r/* (no service). */
async function handler(ns: string, source: string, moduleType?: 'typescript' | 'javascript'): Promise<Scope> {
  const s = await scope(gw, ns);
  await s.module('m', source, moduleType);
  await s.route({ name: 'r', paths: ['/r', '/r/*'], methods: ['*'], modules: ['m'] });
  return s;
}

describe('dgate', { timeout: 60_000 }, () => {
  it('sleep takes fractions of a second and does not block other requests', async () => {
    const s = await handler(
      'builtin-sleep',
      `import { sleep } from 'dgate';
let sleeping = 0;
let released = false;
export async function requestHandler(ctx: any) {
  const q = ctx.query();
  if (q.has('probe')) return ctx.response().json({ sleeping });
  if (q.has('release')) {
    released = true;
    return ctx.response().json({ sleeping });
  }
  sleeping++;
  const t = performance.now();
  await sleep(Number(q.get('s')));
  const slept = performance.now() - t;
  // Sleeps on until released by another request (at most 10 s).
  while (!released && performance.now() - t < 10_000) await sleep(0.01);
  sleeping--;
  ctx.response().json({ slept, released });
}
`,
    );
    const sleeper = s.call('/r?s=0.3', { timeoutMs: 20_000 });
    await until(async () => (await s.call('/r?probe=1')).json().sleeping === 1, 'a request answered while another sleeps');
    assert.deepEqual((await s.call('/r?release=1')).json(), { sleeping: 1 });
    const r = await sleeper;
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json().slept >= 290, `slept ${r.json().slept} ms`);
    assert.equal(r.json().released, true);
  });

  it('sleep accepts duration strings', async () => {
    const s = await handler(
      'builtin-sleep-string',
      `import { sleep } from 'dgate';
export async function requestHandler(ctx: any) { await sleep('120ms'); ctx.response().send('done'); }
`,
    );
    const r = await s.call('/r');
    assert.equal(r.text, 'done');
    assert.ok(r.ms >= 115, `${r.ms} ms`);
  });

  it('fail throws an Error with the message; retry resolves with the callback result or rejects with the last error', async () => {
    const s = await handler(
      'builtin-fail-retry',
      `import { fail, retry } from 'dgate';
export async function requestHandler(ctx: any) {
  let failMessage = '';
  try { fail('custom failure'); } catch (e: any) { failMessage = e.message; }
  const attempts: number[] = [];
  const value = await retry(3, async (n: number) => { attempts.push(n); if (n < 3) throw new Error('try ' + n); return 'ok-' + n; });
  let last = '';
  try { await retry(2, () => { throw new Error('always'); }); } catch (e: any) { last = e.message; }
  ctx.response().json({ failMessage, value, attempts, last });
}
`,
    );
    const r = await s.call('/r');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { failMessage: 'custom failure', value: 'ok-3', attempts: [1, 2, 3], last: 'always' });
  });

  it('errors from built-ins are instances of the module code\'s own Error', async () => {
    const s = await handler(
      'builtin-error-realm',
      `import { fail } from 'dgate';
import { getDocument } from 'dgate/state';
export async function requestHandler(ctx: any) {
  const out: Record<string, boolean> = {};
  try { fail('x'); } catch (e) { out.fail = e instanceof Error; }
  try { await getDocument('id', 'no-such-collection'); } catch (e) { out.state = e instanceof Error; }
  ctx.response().json(out);
}
`,
    );
    const r = await s.call('/r');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { fail: true, state: true });
  });
});

describe('dgate/http', { timeout: 60_000 }, () => {
  it('fetch reaches a local server: status, headers, JSON body, request body and User-Agent', async () => {
    const up = await startUpstream((hit, res) => {
      if (hit.url === '/missing') return sendJson(res, 404, { error: 'nope' });
      sendJson(res, 200, { method: hit.method, body: hit.body, ua: hit.headers['user-agent'], custom: hit.headers['x-custom'] ?? null }, { 'x-reply': 'yes' });
    });
    upstreams.push(up);
    const s = await handler(
      'builtin-http',
      `import { fetch } from 'dgate/http';
export async function requestHandler(ctx: any) {
  const get = await fetch(${JSON.stringify(up.url)} + '/thing');
  const post = await fetch(${JSON.stringify(up.url)} + '/thing', { method: 'POST', body: 'payload', headers: { 'X-Custom': 'c', 'User-Agent': 'mine' } });
  const missing = await fetch(${JSON.stringify(up.url)} + '/missing');
  ctx.response().json({
    get: { status: get.status, ok: get.ok, reply: get.headers.get('x-reply'), json: await get.json() },
    post: await post.json(),
    missing: { status: missing.status, ok: missing.ok, text: await missing.text() },
  });
}
`,
    );
    const r = await s.call('/r');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), {
      get: { status: 200, ok: true, reply: 'yes', json: { method: 'GET', body: '', ua: 'DGate-Client/1.0', custom: null } },
      post: { method: 'POST', body: 'payload', ua: 'mine', custom: 'c' },
      missing: { status: 404, ok: false, text: '{"error":"nope"}' },
    });
  });
});

describe('dgate/crypto', { timeout: 60_000 }, () => {
  it('hmac matches RFC 4231 test cases; hashes match known vectors', async () => {
    const s = await handler(
      'builtin-crypto',
      `import { hmac, createHmac, createHash, sha1, sha256 } from 'dgate/crypto';
export function requestHandler(ctx: any) {
  const key20 = new Uint8Array(20).fill(0x0b);
  ctx.response().json({
    case1: hmac('sha256', key20.buffer, 'Hi There', 'hex'),
    case2: hmac('sha256', 'Jefe', 'what do ya want for nothing?', 'hex'),
    case2sha512: createHmac('sha512', 'Jefe').update('what do ya want ').update('for nothing?').digest('hex'),
    sha1: sha1('abc', 'hex'),
    sha256: sha256('abc', 'hex'),
    md5b64: createHash('md5').update('abc').digest('base64'),
  });
}
`,
    );
    const r = await s.call('/r');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), {
      case1: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
      case2: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      case2sha512: '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
      sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d',
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      md5b64: 'kAFQmDzST7DWlj99KOF/cg==',
    });
  });
});

describe('dgate/state', { timeout: 60_000 }, () => {
  it('documents round trip: add, get, list, delete; a missing document is null', async () => {
    const s = await handler(
      'builtin-state',
      `import { addDocument, getDocument, getDocuments, deleteDocument } from 'dgate/state';
export async function requestHandler(ctx: any) {
  const added: any = await addDocument({ id: 'doc-1', collection: 'things', data: { n: 1, tags: ['a'] } });
  await addDocument({ id: 'doc-2', collection: 'things', data: { n: 2 } });
  const got: any = await getDocument('doc-1', 'things');
  const missing = await getDocument('nope', 'things');
  const list: any[] = await getDocuments({ collection: 'things' });
  await deleteDocument({ id: 'doc-2', collection: 'things' });
  const afterDelete = await getDocument('doc-2', 'things');
  ctx.response().json({
    added: { id: added.id, collection: added.collection, namespace: added.namespace, data: added.data },
    got: { id: got.id, data: got.data, hasDates: typeof got.createdAt === 'string' && typeof got.updatedAt === 'string' },
    missing,
    listed: list.map((d) => d.id),
    afterDelete,
  });
}
`,
    );
    await gw.put('collection', { name: 'things', namespace: s.ns });
    const r = await s.call('/r', { method: 'POST' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), {
      added: { id: 'doc-1', collection: 'things', namespace: s.ns, data: { n: 1, tags: ['a'] } },
      got: { id: 'doc-1', data: { n: 1, tags: ['a'] }, hasDates: true },
      missing: null,
      listed: ['doc-1', 'doc-2'],
      afterDelete: null,
    });
    const viaAdmin = await gw.admin('GET', `/api/v1/document/doc-1?namespace=${s.ns}&collection=things`);
    assert.equal(viaAdmin.status, 200);
    assert.deepEqual(viaAdmin.body.data.data, { n: 1, tags: ['a'] });
  });

  it('a document written through the admin API is readable by module code', async () => {
    const s = await handler(
      'builtin-state-read',
      `import { getDocument } from 'dgate/state';
export async function requestHandler(ctx: any) {
  const doc: any = await getDocument(ctx.pathParam('*'), 'config');
  ctx.response().json(doc === null ? null : doc.data);
}
`,
    );
    await gw.put('collection', { name: 'config', namespace: s.ns });
    const put = await gw.admin('PUT', `/api/v1/document/flags?namespace=${s.ns}&collection=config`, { beta: true });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    assert.deepEqual((await s.call('/r/flags')).json(), { beta: true });
    assert.equal((await s.call('/r/other')).text, 'null');
  });
});

describe('dgate/storage', { timeout: 60_000 }, () => {
  it('setCache/getCache round trip; an entry with a ttl expires', async () => {
    const s = await handler(
      'builtin-storage',
      `import { getCache, setCache } from 'dgate/storage';
export function requestHandler(ctx: any) {
  const q = ctx.query();
  if (q.has('set')) {
    const ttl = q.get('ttl');
    setCache(q.get('set'), { value: q.get('value') }, ttl === null ? undefined : { ttl: Number(ttl) });
  }
  ctx.response().json(getCache(q.get('key') ?? q.get('set')));
}
`,
    );
    const setAt = Date.now();
    assert.deepEqual((await s.call('/r?set=short&value=v1&ttl=1')).json(), { value: 'v1' });
    assert.deepEqual((await s.call('/r?set=long&value=v2')).json(), { value: 'v2' });
    assert.deepEqual((await s.call('/r?key=short')).json(), { value: 'v1' }, 'read back by a later request');
    await until(async () => (await s.call('/r?key=short')).text === 'null', 'the 1 s entry to expire');
    assert.ok(Date.now() - setAt >= 1000, `expired after ${Date.now() - setAt} ms, before its ttl`);
    assert.deepEqual((await s.call('/r?key=long')).json(), { value: 'v2' }, 'no ttl: still there');
    assert.equal((await s.call('/r?key=never-set')).text, 'null');
  });
});

describe('dgate/secrets', { timeout: 60_000 }, () => {
  it('getSecret returns the secret of the module\'s own namespace, null for an unknown one', async () => {
    const source = `import { getSecret } from 'dgate/secrets';
export function requestHandler(ctx: any) {
  ctx.response().json({ key: getSecret('api-key'), missing: getSecret('nope') });
}
`;
    const a = await handler('builtin-secrets-a', source);
    const b = await handler('builtin-secrets-b', source);
    await gw.put('secret', { name: 'api-key', namespace: a.ns, data: 'secret-of-a' });
    await gw.put('secret', { name: 'api-key', namespace: b.ns, data: 'secret-of-b' });
    assert.deepEqual((await a.call('/r')).json(), { key: 'secret-of-a', missing: null });
    assert.deepEqual((await b.call('/r')).json(), { key: 'secret-of-b', missing: null });
    await gw.put('secret', { name: 'api-key', namespace: a.ns, data: 'rotated' });
    assert.deepEqual((await a.call('/r')).json(), { key: 'rotated', missing: null });
  });
});

describe('globals', { timeout: 60_000 }, () => {
  it('web globals are present and work: URL, TextEncoder, atob, structuredClone, crypto.randomUUID, AbortController', async () => {
    const s = await handler(
      'globals-present',
      `export function requestHandler(ctx: any) {
  const clone = structuredClone({ a: [1, { b: 2 }] });
  const controller = new AbortController();
  const before = controller.signal.aborted;
  controller.abort();
  ctx.response().json({
    types: [typeof URL, typeof TextEncoder, typeof atob, typeof structuredClone, typeof crypto?.randomUUID, typeof AbortController],
    url: new URL('/p?q=1', 'http://example.com/base/').href,
    search: new URLSearchParams('a=1&a=2').getAll('a'),
    encoded: Array.from(new TextEncoder().encode('hé')),
    decoded: new TextDecoder().decode(new Uint8Array([104, 195, 169])),
    atob: atob('aGk='),
    btoa: btoa('hi'),
    clone,
    uuid: crypto.randomUUID(),
    aborted: [before, controller.signal.aborted],
  });
}
`,
    );
    const r = await s.call('/r');
    assert.equal(r.status, 200, r.text);
    const j = r.json();
    assert.deepEqual(j.types, ['function', 'function', 'function', 'function', 'function', 'function']);
    assert.equal(j.url, 'http://example.com/p?q=1');
    assert.deepEqual(j.search, ['1', '2']);
    assert.deepEqual(j.encoded, [104, 195, 169]);
    assert.equal(j.decoded, 'hé');
    assert.equal(j.atob, 'hi');
    assert.equal(j.btoa, 'aGk=');
    assert.deepEqual(j.clone, { a: [1, { b: 2 }] });
    assert.match(j.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(j.aborted, [false, true]);
  });

  it('process and require are not available to module code', async () => {
    const s = await handler(
      'globals-absent',
      `export function requestHandler(ctx: any) {
  ctx.response().json({ process: typeof process, require: typeof require });
}
`,
    );
    const r = await s.call('/r');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { process: 'undefined', require: 'undefined' });
  });
});

/**
 * Input too deep or too large for the admin API: 400 naming the field, nothing changes, never a 500
 * (limits in core/limits.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MAX_MODULE_SOURCE_BYTES, MAX_NESTING_DEPTH, MAX_SCHEMA_NODES } from '../core/limits.js';
import type { AdminHarness } from './harness.js';
import { startAdmin } from './harness.js';

let admin: AdminHarness;
before(async () => (admin = await startAdmin()));
after(() => admin.close());

/** `{"not": {"not": … {} …}}`, `levels` objects deep, as JSON text (never built as an object here). */
function nestedNot(levels: number): string {
  return '{"not":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
}

const deepArray = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

test('a collection schema nested 10,000 levels deep is 400 naming schema, and nothing is stored', async () => {
  const rev = await admin.rev();
  const r = await admin.call('PUT', '/api/v1/collection', `{"name":"deep","schema":${nestedNot(10_000)}}`);
  assert.equal(r.status, 400);
  assert.deepEqual(r.json, { error: `schema: nested deeper than ${MAX_NESTING_DEPTH} levels`, status: 400, code: 'DG_ERR_VALIDATION' });
  assert.equal((await admin.call('GET', '/api/v1/collection/deep')).status, 404);
  assert.equal(await admin.rev(), rev);
});

test('a schema as deep as the limit allows is accepted and validates documents', async () => {
  // body (1) > schema (2) > not … : the innermost of the schema's objects is at the limit
  const schema = nestedNot(MAX_NESTING_DEPTH - 1);
  assert.equal((await admin.call('PUT', '/api/v1/collection', `{"name":"ok","schema":${schema}}`)).status, 201);
  // (not)^(62) {} : an even number of "not" around {} accepts everything
  assert.equal((await admin.call('PUT', '/api/v1/document/d1?collection=ok', { any: 1 })).status, 201);
});

test('a document nested too deep is 400 naming its field; the collection stays empty', async () => {
  await admin.seed(['collection', { name: 'docs' }]);
  const rev = await admin.rev();
  const r = await admin.call('PUT', '/api/v1/document/d1?collection=docs', `{"ok":1,"tree":${deepArray(100_000)}}`);
  assert.equal(r.status, 400);
  assert.equal(r.json.error, `tree: nested deeper than ${MAX_NESTING_DEPTH} levels`);
  assert.equal(r.json.code, 'DG_ERR_VALIDATION');
  assert.equal((await admin.call('GET', '/api/v1/document?collection=docs')).json.count, 0);
  assert.equal(await admin.rev(), rev);
  const list = await admin.call('PUT', '/api/v1/document/d2?collection=docs', deepArray(1000));
  assert.equal(list.status, 400);
  assert.equal(list.json.error, `[0]: nested deeper than ${MAX_NESTING_DEPTH} levels`);
});

test('any resource body nested too deep is 400 naming the field', async () => {
  for (const [kind, body, field] of [
    ['namespace', `{"name":"n","tags":${deepArray(5000)}}`, 'tags'],
    ['service', `{"name":"s","urls":${deepArray(5000)}}`, 'urls'],
    ['route', `{"name":"r","paths":["/x"],"methods":["GET"],"extra":${nestedNot(200)}}`, 'extra'],
    ['secret', `{"name":"s","data":${nestedNot(70)}}`, 'data'],
  ] as const) {
    const r = await admin.call('PUT', `/api/v1/${kind}`, body);
    assert.equal(r.status, 400, kind);
    assert.equal(r.json.error, `${field}: nested deeper than ${MAX_NESTING_DEPTH} levels`, kind);
  }
});

test('a module source larger than the limit is 400 naming payload, not a 500', async () => {
  const rev = await admin.rev();
  const source = `export const requestHandler = () => {};\n${'const a = 1;\n'.repeat(Math.ceil(MAX_MODULE_SOURCE_BYTES / 13) + 1)}`;
  const r = await admin.call('PUT', '/api/v1/module', { name: 'big', payload: Buffer.from(source).toString('base64') });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, `payload: source larger than ${MAX_MODULE_SOURCE_BYTES} bytes`);
  // several megabytes of base64 are checked without a regular expression that recurses per group
  const huge = await admin.call('PUT', '/api/v1/module', { name: 'big', payload: 'QUFB'.repeat(3_000_000) });
  assert.equal(huge.status, 400);
  assert.match(huge.json.error, /^payload: source larger than/);
  const bad = await admin.call('PUT', '/api/v1/module', { name: 'big', payload: `${'QUFB'.repeat(3_000_000)}Q` });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'payload: must be standard base64 (with padding)');
  assert.equal(await admin.rev(), rev);
});

test('a collection schema with more values than the limit is 400 naming schema (the compiler recurses over wide schemas too)', async () => {
  const rev = await admin.rev();
  const wide = (n: number) => ({ type: 'object', properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: 'string' }])) });
  const r = await admin.call('PUT', '/api/v1/collection', { name: 'wide', schema: wide(4000) });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, `schema: more than ${MAX_SCHEMA_NODES} values (keys and list items)`);
  assert.equal(await admin.rev(), rev);
  assert.equal((await admin.call('PUT', '/api/v1/collection', { name: 'wide', schema: wide(400) })).status, 201);
});

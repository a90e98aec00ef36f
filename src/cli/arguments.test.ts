import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseArguments, requireFields } from './arguments.js';
import { findSpec } from './resources/index.js';
import { UsageError } from './usage-error.js';
import { verbContract, type Verb } from './verbs.js';

const dir = mkdtempSync(join(tmpdir(), 'dgate-cli-args-'));

function parse(resource: string, verb: Verb, args: string[]) {
  const spec = findSpec(resource)!;
  return parseArguments(args, verbContract(spec, verb), { resource: spec.kind, command: `${spec.kind} ${verb}`, cwd: dir }).values;
}

function engineError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

function refused(fn: () => unknown, message: string) {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && e.message === message ? true : assert.fail(`got ${String(e)}`));
}

test('key=value converts by field type', () => {
  assert.deepEqual(parse('svc', 'create', ['name=s', 'urls=http://a,http://b', 'retries=3', 'retryTimeout=50ms', 'connectTimeout=1000', 'http2Only=false']), {
    name: 's', urls: ['http://a', 'http://b'], retries: 3, retryTimeout: '50ms', connectTimeout: 1000, http2Only: false,
  });
  assert.deepEqual(parse('rt', 'create', ['tags=']), { tags: [] }, 'an empty list');
  assert.deepEqual(parse('doc', 'create', ['data=hello']), { data: 'hello' }, 'JSON fields take text as a string');
  assert.deepEqual(parse('svc', 'create', ['urls=http://a?x=1&y=2']), { urls: ['http://a?x=1&y=2'] }, 'split at the first "=" only');
});

test('key:=json is raw JSON, key:=@file JSON from a file', () => {
  writeFileSync(join(dir, 'schema.json'), '{"type":"object"}');
  assert.deepEqual(parse('col', 'create', ['schema:=@schema.json', 'tags:=["a"]']), { schema: { type: 'object' }, tags: ['a'] });
  assert.deepEqual(parse('dom', 'create', ['priority:=10', 'patterns:=["a.com"]']), { priority: 10, patterns: ['a.com'] });
  // the reason is the JavaScript engine's own words (V8 on Node, JavaScriptCore on Bun)
  refused(() => parse('dom', 'create', ['priority:=ten']), `priority: invalid JSON: ${engineError(() => JSON.parse('ten'))}`);
});

test('key@=file reads text; a base64 field gets the file base64-encoded; an empty path is ""', () => {
  writeFileSync(join(dir, 'mod.ts'), 'export {};\n');
  writeFileSync(join(dir, 'pem'), '-----BEGIN-----\n');
  assert.deepEqual(parse('mod', 'create', ['payload@=mod.ts']), { payload: Buffer.from('export {};\n').toString('base64') });
  assert.deepEqual(parse('dom', 'create', ['cert@=pem']), { cert: '-----BEGIN-----\n' });
  assert.deepEqual(parse('mod', 'create', ['payload@=']), { payload: '' });
});

test('a positional word is the name (or document id); conflicting or extra words are refused', () => {
  assert.deepEqual(parse('ns', 'delete', ['foo']), { name: 'foo' });
  assert.deepEqual(parse('ns', 'delete', ['foo', 'name=foo']), { name: 'foo' });
  assert.deepEqual(parse('doc', 'get', ['d1', 'collection=c']), { id: 'd1', collection: 'c' });
  refused(() => parse('ns', 'delete', ['foo', 'name=bar']), 'name given twice: "foo" and name=bar');
  refused(() => parse('ns', 'list', ['foo']), 'unexpected argument "foo" (fields are given as key=value)');
  refused(() => parse('ns', 'create', ['name=a', 'name=b']), 'field name is given twice');
});

test('namespace= is accepted by every verb but the namespace kind’s', () => {
  assert.deepEqual(parse('rt', 'list', ['namespace=x']), { namespace: 'x' });
  assert.deepEqual(parse('sec', 'get', ['k', 'namespace=x']), { name: 'k', namespace: 'x' });
  refused(() => parse('ns', 'create', ['name=a', 'namespace=x']), 'unknown field(s) for namespace: namespace');
});

test('missing required fields are listed together', () => {
  const spec = findSpec('route')!;
  const contract = verbContract(spec, 'create');
  const ctx = { resource: 'route', command: 'route create', cwd: dir };
  const parsed = parseArguments(['name=r'], contract, ctx);
  refused(() => requireFields(parsed, contract, ctx), 'missing required field(s) for route: paths, methods');
});

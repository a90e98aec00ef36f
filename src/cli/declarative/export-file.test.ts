import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findSpec } from '../resources/index.js';
import type { Entry } from './entry.js';
import { identityOf } from './entry.js';
import { exportFile, formatFile } from './export-file.js';

function entry(kind: string, item: Record<string, unknown>): Entry {
  const spec = findSpec(kind)!;
  const id = identityOf(spec, item)!;
  return { spec, namespace: id.namespace, name: id.name, item };
}

test('sections in dependency order, items by namespace then name (byte order), keys in field order', () => {
  const file = exportFile([
    entry('route', { tags: ['t'], methods: ['GET'], paths: ['/'], namespace: 'b', name: 'r', preserveHost: false, stripPath: false }),
    entry('route', { name: 'Z', namespace: 'a', paths: ['/'], methods: ['GET'], stripPath: false, preserveHost: false }),
    entry('route', { name: 'a', namespace: 'a', paths: ['/'], methods: ['GET'], stripPath: false, preserveHost: false }),
    entry('namespace', { name: 'b' }),
    entry('namespace', { name: 'a' }),
    entry('document', { id: 'd', namespace: 'a', collection: 'c', data: 1, createdAt: 'x', updatedAt: 'y' }),
  ]);
  assert.deepEqual(Object.keys(file), ['namespaces', 'routes', 'documents']);
  assert.deepEqual(file.routes!.map((r) => `${r.namespace}/${r.name}`), ['a/Z', 'a/a', 'b/r']);
  assert.deepEqual(Object.keys(file.routes![2]!), ['name', 'namespace', 'paths', 'methods', 'stripPath', 'preserveHost', 'tags']);
  assert.deepEqual(file.documents, [{ id: 'd', namespace: 'a', collection: 'c', data: 1 }]);
});

test('YAML output: no folded lines, a note above the secrets; JSON output indented', () => {
  const long = 'x'.repeat(300);
  const file = exportFile([entry('module', { name: 'm', namespace: 'n', payload: long, moduleType: 'typescript' }), entry('secret', { name: 's', namespace: 'n', data: 'anything' })]);
  const yaml = formatFile(file, 'yaml');
  assert.ok(yaml.includes(`    payload: ${long}\n`));
  assert.ok(yaml.includes('# secret values cannot be read back: "**redacted**" keeps the stored value when applied\nsecrets:\n  - name: s\n    namespace: n\n    data: "**redacted**"\n'));
  assert.equal(formatFile({ namespaces: [{ name: 'a' }] }, 'json'), '{\n  "namespaces": [\n    {\n      "name": "a"\n    }\n  ]\n}\n');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LabelTree } from './label-tree.js';

test('values are found by their three labels, and only by all three', () => {
  const t = new LabelTree<number>();
  t.set('ns', 'route', 'a', 1);
  t.set('ns', 'route', 'b', 2);
  t.set('ns', 'other', 'a', 3);
  t.set('ns2', 'route', 'a', 4);
  assert.deepEqual([t.get('ns', 'route', 'a'), t.get('ns', 'route', 'b'), t.get('ns', 'other', 'a'), t.get('ns2', 'route', 'a')], [1, 2, 3, 4]);
  assert.equal(t.get('ns', 'route', 'c'), undefined);
  assert.equal(t.get('ns', 'nope', 'a'), undefined);
  // labels that would join to the same string stay apart
  t.set('a\u0001b', 'c', 'd', 5);
  assert.equal(t.get('a', 'b\u0001c', 'd'), undefined);
  t.clear();
  assert.equal(t.get('ns', 'route', 'a'), undefined);
});

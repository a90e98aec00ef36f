import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ItemTable } from './item-table.js';

const item = (name: string, v = 0) => ({ name, v });
const put = (names: string[], v = 0): Array<[string, unknown]> => names.map((n) => [n, item(n, v)]);
const names = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `n${from + i}`);

function contents(t: ItemTable): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of t) {
    assert.ok(!out.has(k), `${k} listed twice`);
    out.set(k, v);
  }
  return out;
}

describe('ItemTable', () => {
  it('holds 10,000 items, each found by name and listed once', () => {
    const t = ItemTable.EMPTY.with(put(names(0, 10_000)));
    assert.equal(t.size, 10_000);
    assert.equal(contents(t).size, 10_000);
    for (const n of names(0, 10_000)) assert.deepEqual(t.get(n), item(n));
    assert.equal(t.has('n10000'), false);
    assert.equal(ItemTable.EMPTY.size, 0);
  });

  it('a write returns a new table, leaves the old one as it was, and reports what differs', () => {
    const t = ItemTable.EMPTY.with(put(names(0, 10_000)));
    const t2 = t.with([['n5', item('n5', 1)], ['n7', undefined], ['x', item('x')]]);
    assert.deepEqual([t2.size, t2.get('n5'), t2.has('n7'), t2.get('x')], [10_000, item('n5', 1), false, item('x')]);
    assert.deepEqual([t.size, t.get('n5'), t.has('n7'), t.has('x')], [10_000, item('n5'), true, false]);
    assert.deepEqual(t2.changedNames(t).sort(), ['n5', 'n7', 'x']);
    assert.deepEqual(t.changedNames(t), []);
  });

  it('stays exact while it grows from a few items to many and shrinks back', () => {
    let t = ItemTable.EMPTY;
    const expected = new Map<string, unknown>();
    // growth in steps that cross every size bound, then deletions back to a few items
    for (const [from, to] of [[0, 10], [10, 70], [70, 300], [300, 5000], [5000, 20_000]]) {
      const before = t;
      t = t.with(put(names(from, to)));
      for (const [k, v] of put(names(from, to))) expected.set(k, v);
      assert.deepEqual(t.changedNames(before).sort(), names(from, to).sort());
      assert.deepEqual(contents(t), expected);
    }
    for (const [from, to] of [[20, 20_000], [5, 20]]) {
      const before = t;
      t = t.with(names(from, to).map((n) => [n, undefined]));
      for (const n of names(from, to)) expected.delete(n);
      assert.equal(t.size, expected.size);
      assert.deepEqual(t.changedNames(before).sort(), names(from, to).sort());
      assert.deepEqual(contents(t), expected);
      for (const n of names(0, 5)) assert.deepEqual(t.get(n), item(n));
    }
  });
});

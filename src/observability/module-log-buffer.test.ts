import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModuleLogBuffer } from './module-log-buffer.js';
import type { ModuleLogRecord } from './module-log-record.js';

const rec = (over: Partial<ModuleLogRecord>): ModuleLogRecord => ({
  time: 1_000,
  namespace: 'ns',
  module: 'm',
  route: 'r',
  requestId: null,
  level: 'info',
  message: 'x',
  pid: 1,
  ...over,
});

test('keeps the newest lines of each module, numbered in arrival order', () => {
  const buf = new ModuleLogBuffer(3);
  buf.append([1, 2, 3, 4, 5].map((i) => rec({ message: `a${i}` })));
  buf.append([rec({ module: 'other', message: 'b1' })]);
  const all = buf.query({}, 100).lines;
  assert.deepEqual(all.map((l) => [l.seq, l.message]), [[3, 'a3'], [4, 'a4'], [5, 'a5'], [6, 'b1']]);
  assert.deepEqual(buf.query({ module: 'm' }, 2).lines.map((l) => l.message), ['a4', 'a5']);
});

test('filters by namespace, module, route, minimum level, time and sequence', () => {
  const buf = new ModuleLogBuffer(100);
  buf.append([
    rec({ namespace: 'a', level: 'debug', time: 1 }),
    rec({ namespace: 'a', level: 'warn', route: 'r2', time: 2 }),
    rec({ namespace: 'b', module: null, level: 'error', route: null, time: 3 }),
  ]);
  const seqs = (f: Parameters<ModuleLogBuffer['query']>[0]) => buf.query(f, 100).lines.map((l) => l.seq);
  assert.deepEqual(seqs({ namespace: 'a' }), [1, 2]);
  assert.deepEqual(seqs({ module: 'm' }), [1, 2]);
  assert.deepEqual(seqs({ route: 'r2' }), [2]);
  assert.deepEqual(seqs({ level: 'warn' }), [2, 3]);
  assert.deepEqual(seqs({ level: 'error' }), [3]);
  assert.deepEqual(seqs({ since: 2 }), [2, 3]);
  assert.deepEqual(seqs({ after: 2 }), [3]);
});

test('a dropped-lines line adds to its module total and passes route and level filters', () => {
  const buf = new ModuleLogBuffer(10);
  buf.append([rec({ level: 'warn', route: null, dropped: 7, message: '7 lines dropped' }), rec({ level: 'warn', route: null, dropped: 5 })]);
  const { lines, dropped } = buf.query({ level: 'error', route: 'r' }, 10);
  assert.equal(lines.length, 2);
  assert.deepEqual(dropped, [{ namespace: 'ns', module: 'm', dropped: 12 }]);
});

test('followers get every appended line until they stop', () => {
  const buf = new ModuleLogBuffer(10);
  const seen: string[] = [];
  const stop = buf.follow((l) => seen.push(l.message));
  buf.append([rec({ message: 'one' })]);
  stop();
  buf.append([rec({ message: 'two' })]);
  assert.deepEqual(seen, ['one']);
});

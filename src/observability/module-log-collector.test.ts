import assert from 'node:assert/strict';
import { once, EventEmitter } from 'node:events';
import { test } from 'node:test';
import { channels, type ModuleLogEvent } from './channels.js';
import { ModuleLogCollector } from './module-log-collector.js';
import { MODULE_LOG_BATCH, type ModuleLogRecord } from './module-log-record.js';

const line = (over: Partial<ModuleLogEvent> = {}): ModuleLogEvent => ({
  namespace: 'ns',
  module: 'm',
  route: 'r',
  requestId: 'id-1',
  level: 'info',
  message: 'hello',
  time: Date.now(),
  ...over,
});

/** A collector whose batches are awaited as events. */
function collect(settings: { rateLimit: number; maxLineLength: number }) {
  const batches = new EventEmitter();
  const collector = new ModuleLogCollector(settings, (records) => batches.emit('batch', records)).start();
  const next = async (): Promise<ModuleLogRecord[]> => {
    // the collector's timer does not keep a process alive: this one does while the test waits
    const alive = setTimeout(() => {}, 10_000);
    try {
      return (await once(batches, 'batch'))[0] as ModuleLogRecord[];
    } finally {
      clearTimeout(alive);
    }
  };
  return { collector, next };
}

test('batches the lines published on channels.moduleLog, with their fields and this process id', async () => {
  const { collector, next } = collect({ rateLimit: 100, maxLineLength: 100 });
  try {
    const batch = next();
    channels.moduleLog.publish(line());
    channels.moduleLog.publish(line({ level: 'error', message: 'bad' }));
    const records = await batch;
    assert.deepEqual(records.map((r) => [r.namespace, r.module, r.route, r.requestId, r.level, r.message, r.pid]), [
      ['ns', 'm', 'r', 'id-1', 'info', 'hello', process.pid],
      ['ns', 'm', 'r', 'id-1', 'error', 'bad', process.pid],
    ]);
  } finally {
    collector.close();
  }
});

test('a module over its rate limit loses the excess, and the batch ends with how many were dropped', async () => {
  const { collector, next } = collect({ rateLimit: 10, maxLineLength: 100 });
  try {
    const batch = next();
    const started = performance.now();
    for (let i = 0; i < 500; i++) channels.moduleLog.publish(line({ message: `flood ${i}` }));
    const refilled = ((performance.now() - started) * 10) / 1000; // tokens earned while the loop ran
    channels.moduleLog.publish(line({ module: 'calm', message: 'calm' }));
    const records = await batch;
    const flood = records.filter((r) => r.module === 'm' && r.dropped === undefined);
    assert.ok(flood.length >= 10 && flood.length <= 10 + Math.ceil(refilled), `kept ${flood.length}`);
    const marker = records.find((r) => r.dropped !== undefined)!;
    assert.equal(marker.module, 'm');
    assert.equal(marker.dropped, 500 - flood.length);
    assert.equal(marker.level, 'warn');
    assert.match(marker.message, /^\d+ lines dropped \(\d+ over the limit of 10 lines\/s per module\)$/);
    assert.ok(records.some((r) => r.module === 'calm'), 'another module keeps its allowance');
  } finally {
    collector.close();
  }
});

test('one batch carries a bounded number of lines; the rest is counted as dropped', async () => {
  const { collector, next } = collect({ rateLimit: 1_000_000, maxLineLength: 100 });
  try {
    const batch = next();
    for (let i = 0; i < MODULE_LOG_BATCH.lines + 250; i++) channels.moduleLog.publish(line({ module: `m${i % 3}` }));
    const records = await batch;
    const kept = records.filter((r) => r.dropped === undefined);
    assert.equal(kept.length, MODULE_LOG_BATCH.lines);
    assert.equal(records.reduce((n, r) => n + (r.dropped ?? 0), 0), 250);
    assert.match(records.find((r) => r.dropped !== undefined)!.message, /while this proxy process was over its limit/);
  } finally {
    collector.close();
  }
});

test('cuts long lines, saying how much was cut', async () => {
  const { collector, next } = collect({ rateLimit: 100, maxLineLength: 100 });
  try {
    const batch = next();
    channels.moduleLog.publish(line({ message: 'x'.repeat(250) }));
    const [record] = await batch;
    assert.equal(record!.message, `${'x'.repeat(100)} … [150 characters cut]`);
  } finally {
    collector.close();
  }
});

test('a closed collector no longer listens', () => {
  const collector = new ModuleLogCollector({ rateLimit: 1, maxLineLength: 100 }, () => assert.fail('delivered after close')).start();
  collector.close();
  assert.equal(channels.moduleLog.hasSubscribers, false);
  channels.moduleLog.publish(line());
});

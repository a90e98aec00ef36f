import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino, type Logger } from 'pino';
import { channels, type RefusalEvent } from '../observability/channels.js';
import { RefusalLog } from './refusals.js';

function logTo(level: string): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      out.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level }, stream), lines: () => out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('refusals are counted per reason and logged at debug level with the running count', () => {
  const { log, lines } = logTo('debug');
  const refusals = new RefusalLog(log);
  refusals.note('header_timeout');
  refusals.note('header_timeout');
  refusals.note('url_too_long');
  assert.equal(refusals.counts.get('header_timeout'), 2);
  assert.equal(refusals.counts.get('url_too_long'), 1);
  const logged = lines();
  assert.deepEqual(logged.map((l) => [l['level'], l['reason'], l['count']]), [[20, 'header_timeout', 1], [20, 'header_timeout', 2], [20, 'url_too_long', 1]]);
});

test('at info level an attack writes no log line, and observers see each refusal on dgate:proxy:refusal', () => {
  const { log, lines } = logTo('info');
  const refusals = new RefusalLog(log);
  const seen: RefusalEvent[] = [];
  const listener = (e: RefusalEvent) => seen.push(e);
  channels.refusal.subscribe(listener);
  try {
    for (let i = 0; i < 1000; i++) refusals.note('bad_request');
  } finally {
    channels.refusal.unsubscribe(listener);
  }
  assert.equal(refusals.counts.get('bad_request'), 1000);
  assert.deepEqual(lines(), []);
  assert.equal(seen.length, 1000);
  assert.deepEqual(seen[0], { reason: 'bad_request' });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AccessLog } from './access-log.js';
import { channels, type RequestEndEvent } from './channels.js';

const EVENT: RequestEndEvent = {
  namespace: 'app',
  route: 'api',
  service: 'svc',
  upstream: 'http://127.0.0.1:3000',
  method: 'POST',
  status: 201,
  bytesIn: 12,
  bytesOut: 345,
  moduleMs: 0.1234567,
  upstreamMs: 1.5,
  totalMs: 2.25,
  requestId: 'id-"quoted"',
};

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited 10 s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function collector(): { sink: (text: string) => void; lines: () => Record<string, unknown>[]; writes: () => number } {
  let text = '';
  let writes = 0;
  return {
    sink: (t) => {
      text += t;
      writes++;
    },
    lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
    writes: () => writes,
  };
}

test('one JSON line per requestEnd event, with every field, written together shortly after', async () => {
  const out = collector();
  const log = new AccessLog({ sampleRate: 1, file: null, nodeId: 'gw-1' }, out.sink).start();
  try {
    channels.requestEnd.publish(EVENT);
    channels.requestEnd.publish({ ...EVENT, namespace: null, route: null, service: null, upstream: null, requestId: null, status: 404 });
    channels.requestEnd.publish({ ...EVENT, requestId: 'back\\slash\u0001\nnewline', route: 'ünï' });
    await nextTurn();
    assert.equal(out.writes(), 0, 'nothing written at once');
    await until(() => out.writes() > 0, 'the batch');
    assert.equal(out.writes(), 1, 'the lines in one write');
    const [first, second] = out.lines();
    const { time, ...rest } = first!;
    assert.ok(Math.abs(Date.parse(String(time)) - Date.now()) < 60_000);
    assert.deepEqual(rest, {
      node_id: 'gw-1',
      source: 'access',
      request_id: 'id-"quoted"',
      method: 'POST',
      namespace: 'app',
      route: 'api',
      service: 'svc',
      upstream: 'http://127.0.0.1:3000',
      status: 201,
      bytes_in: 12,
      bytes_out: 345,
      module_ms: 0.123,
      upstream_ms: 1.5,
      total_ms: 2.25,
    });
    assert.equal(second!['status'], 404);
    assert.equal(second!['namespace'], null);
    assert.equal(second!['request_id'], null);
    const third = out.lines()[2]!;
    assert.equal(third['request_id'], 'back\\slash\u0001\nnewline');
    assert.equal(third['route'], 'ünï');
  } finally {
    log.stop();
  }
  channels.requestEnd.publish(EVENT);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(out.lines().length, 3, 'nothing logged after stop');
});

test('sample_rate is drawn per request', async () => {
  let n = 0;
  const alternating = () => (n++ % 2 === 0 ? 0.25 : 0.75);
  const half = collector();
  const none = collector();
  const logs = [new AccessLog({ sampleRate: 0.5, file: null, nodeId: 'n' }, half.sink, alternating).start(), new AccessLog({ sampleRate: 0, file: null, nodeId: 'n' }, none.sink, () => 0).start()];
  try {
    for (let i = 0; i < 100; i++) channels.requestEnd.publish(EVENT);
  } finally {
    for (const l of logs) l.stop();
  }
  assert.equal(half.lines().length, 50);
  assert.equal(none.lines().length, 0, 'rate 0 logs nothing, even when the draw is 0');
});

test('time: ISO 8601 with milliseconds, as Date#toISOString', async () => {
  const out = collector();
  const log = new AccessLog({ sampleRate: 1, file: null, nodeId: 'n' }, out.sink).start();
  const bounds: Array<[number, number]> = [];
  try {
    for (let i = 0; i < 30; i++) {
      const before = Date.now();
      channels.requestEnd.publish(EVENT);
      bounds.push([before, Date.now()]);
      await new Promise((resolve) => setTimeout(resolve, i % 3));
    }
  } finally {
    log.stop();
  }
  const times = out.lines().map((l) => String(l['time']));
  assert.equal(times.length, 30);
  times.forEach((t, i) => {
    assert.match(t, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const ms = Date.parse(t);
    assert.ok(ms >= bounds[i]![0] && ms <= bounds[i]![1], `${t} within its publish`);
  });
});

test('file: lines are appended to it (directories created); pending lines are written on stop', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dgate-access-'));
  const file = join(dir, 'logs', 'access.log');
  const log = new AccessLog({ sampleRate: 1, file, nodeId: 'n' }).start();
  channels.requestEnd.publish(EVENT);
  log.stop();
  const again = new AccessLog({ sampleRate: 1, file, nodeId: 'n' }).start();
  channels.requestEnd.publish({ ...EVENT, status: 500 });
  again.stop();
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => l['status']), [201, 500]);
});

test('an answer cut because the upstream body broke: "error" last on its line, absent on the others', () => {
  const out = collector();
  const log = new AccessLog({ sampleRate: 1, file: null, nodeId: 'gw-1' }, out.sink);
  log.record({ ...EVENT, status: 200, error: 'upstream_body' });
  log.record({ ...EVENT, error: null });
  log.record(EVENT);
  log.flush();
  const [cut, none, absent] = out.lines();
  assert.equal(cut!['error'], 'upstream_body');
  assert.equal(cut!['status'], 200);
  assert.equal(Object.keys(cut!).at(-1), 'error');
  assert.equal('error' in none!, false);
  assert.equal('error' in absent!, false);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channels } from '../channels.js';
import { RecentStats } from './recent.js';
import { mergeStats, statsView } from './view.js';

function end(route: string, totalMs: number, status = 200, service = 'svc') {
  channels.requestEnd.publish({ namespace: 'ns', route, service, upstream: null, method: 'GET', status, bytesIn: 0, bytesOut: 0, moduleMs: 0, upstreamMs: 0, totalMs, requestId: null });
}

test('requests fall out of the 1m window after a minute, of 5m after five, of 1h after an hour (10 s slots rolled into minutes)', () => {
  let now = 1_000_000_000_000;
  const stats = new RecentStats(() => now);
  stats.start();
  try {
    for (let i = 0; i < 10; i++) end('a', 5);
    end('a', 100, 502);
    const at = (ms: number) => {
      now += ms;
      return statsView(stats.snapshot(), {}).routes[0]!.windows;
    };
    let w = at(0);
    assert.deepEqual([w['1m'].requests, w['1m'].errors, w['5m'].requests, w['1h'].requests], [11, 1, 11, 11]);
    w = at(90_000); // 1.5 min later
    assert.deepEqual([w['1m'].requests, w['5m'].requests, w['1h'].requests], [0, 11, 11]);
    // traffic 7 minutes later pushes the first 10 s slot out of the ring: it is kept in its minute
    now += 6 * 60_000;
    end('a', 5);
    w = at(0);
    assert.deepEqual([w['1m'].requests, w['5m'].requests, w['1h'].requests, w['1h'].errors], [1, 1, 12, 1]);
    w = at(59 * 60_000);
    assert.deepEqual([w['1m'].requests, w['5m'].requests, w['1h'].requests], [0, 0, 1]);
    now += 2 * 60_000;
    assert.deepEqual(statsView(stats.snapshot(), {}).routes, [], 'a route without requests in the hour is not listed');
  } finally {
    stats.stop();
  }
});

test('percentiles come from the merged histograms of several processes, within the bucket width', () => {
  const a = new RecentStats();
  const b = new RecentStats();
  a.start();
  for (let i = 1; i <= 100; i++) end('r', i); // 1..100 ms, seen by a
  a.stop();
  b.start();
  for (let i = 0; i < 100; i++) end('r', 1000); // 100 × 1 s, seen by b
  b.stop();
  const v = statsView(mergeStats([a.snapshot(), b.snapshot()]), {});
  const w = v.routes[0]!.windows['1m'];
  assert.equal(w.requests, 200);
  assert.ok(w.p50! > 100 * 0.88 && w.p50! < 100 * 1.13, `p50 ${w.p50}`);
  assert.ok(w.p95! > 1000 * 0.88 && w.p95! < 1000 * 1.13, `p95 ${w.p95}`);
  assert.deepEqual(v.total['1m'], w);
});

test('filters: service keeps its routes and their modules; module keeps its rows and the routes it ran on', () => {
  const s = new RecentStats();
  s.start();
  end('r1', 1, 200, 's1');
  end('r2', 1, 200, 's2');
  channels.hook.publish({ namespace: 'ns', module: 'm1', hook: 'requestModifier', route: 'r1', durationMs: 0.1, failed: false });
  channels.hook.publish({ namespace: 'ns', module: 'm2', hook: 'requestModifier', route: 'r2', durationMs: 0.1, failed: true });
  s.stop();
  const raw = s.snapshot();
  const rows = (f: Parameters<typeof statsView>[1]) => {
    const v = statsView(raw, f);
    return [v.routes.map((r) => r.route), v.modules.map((m) => `${m.route}/${m.module}`)];
  };
  assert.deepEqual(rows({}), [['r1', 'r2'], ['r1/m1', 'r2/m2']]);
  assert.deepEqual(rows({ service: 's2' }), [['r2'], ['r2/m2']]);
  assert.deepEqual(rows({ module: 'm1' }), [['r1'], ['r1/m1']]);
  assert.deepEqual(rows({ route: 'r2' }), [['r2'], ['r2/m2']]);
  assert.deepEqual(rows({ namespace: 'other' }), [[], []]);
  assert.equal(statsView(raw, { module: 'm2' }).modules[0]!.windows['1m'].errors, 1);
});

test('a series dropped after an idle hour is counted again from its next request (route and module)', () => {
  let now = 1_000_000_000_000;
  const stats = new RecentStats(() => now);
  stats.start();
  const hook = () => channels.hook.publish({ namespace: 'ns', module: 'm', hook: 'responseModifier', route: 'a', durationMs: 0.1, failed: false });
  try {
    end('a', 5);
    hook();
    now += 2 * 3_600_000;
    assert.deepEqual(stats.snapshot(), { routes: [], modules: [] }, 'idle series are dropped');
    end('a', 5);
    end('a', 5);
    hook();
    const v = statsView(stats.snapshot(), {});
    assert.deepEqual(v.routes.map((r) => [r.route, r.windows['1m'].requests]), [['a', 2]]);
    assert.deepEqual(v.modules.map((m) => [m.module, m.windows['1m'].requests]), [['m', 1]]);
  } finally {
    stats.stop();
  }
});

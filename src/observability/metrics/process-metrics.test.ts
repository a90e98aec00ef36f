/**
 * ProcessMetrics fed through the request-path channels: each label set counts only its own
 * events, whatever order they come in (series found by nested lookups on the label strings),
 * and upstream origins stay capped per service.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { channels, type RequestEndEvent, type UpstreamEvent } from '../channels.js';
import type { MetricJson } from './families.js';
import { ORIGINS_PER_SERVICE } from './labels.js';
import { ProcessMetrics } from './process-metrics.js';

function end(ns: string | null, route: string | null, service: string | null, method: string, status: number): RequestEndEvent {
  return { namespace: ns, route, service, upstream: null, method, status, bytesIn: 0, bytesOut: 0, moduleMs: 0, upstreamMs: 0, totalMs: 1, requestId: null };
}
function upstream(ns: string, service: string, origin: string, error: string | null = null, retry = false): UpstreamEvent {
  return { namespace: ns, service, upstream: origin, durationMs: 2, error, retry };
}
function values(json: MetricJson[], name: string): Array<{ value: number; labels: Record<string, string | number> }> {
  const m = json.find((f) => f.name === name);
  assert.ok(m !== undefined, name);
  return m.values;
}
const key = (labels: Record<string, string | number>, names: readonly string[]) => names.map((n) => labels[n]).join('|');

describe('process metrics series', () => {
  const metrics = new ProcessMetrics({ proxy: true });
  before(() => metrics.start());
  after(() => metrics.stop());

  it('counts each request label set apart, also sets sharing a prefix, and unknown methods as "other"', async () => {
    const events = [
      end('ns', 'a', 'svc', 'GET', 200),
      end('ns', 'a', 'svc', 'GET', 200),
      end('ns', 'a', 'svc', 'GET', 503),
      end('ns', 'a', 'svc', 'POST', 200),
      end('ns', 'b', 'svc', 'GET', 200),
      end('ns2', 'a', 'svc', 'GET', 200),
      end('ns', 'a', 'svc', 'PURGE', 404),
      end('ns', 'a', 'svc', 'LOCK', 404),
      end(null, null, null, 'GET', 404),
      // a label value holding the old key separator does not collide with another set
      end('ns\u0001a', 'svc', 'GET', 'GET', 200),
    ];
    for (const e of events) channels.requestEnd.publish(e);
    const names = ['namespace', 'route', 'service', 'method', 'status_class'];
    const counts = new Map(values(await metrics.toJSON(), 'dgate_requests_total').map((v) => [key(v.labels, names), v.value]));
    assert.deepEqual(
      Object.fromEntries(counts),
      {
        'ns|a|svc|GET|2xx': 2,
        'ns|a|svc|GET|5xx': 1,
        'ns|a|svc|POST|2xx': 1,
        'ns|b|svc|GET|2xx': 1,
        'ns2|a|svc|GET|2xx': 1,
        'ns|a|svc|other|4xx': 2,
        '|||GET|4xx': 1,
        'ns\u0001a|svc|GET|GET|2xx': 1,
      },
    );
  });

  it('keeps upstream origins capped per service, with retries and errors on the same labels', async () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < ORIGINS_PER_SERVICE + 5; i++) channels.upstream.publish(upstream('ns', 'up', `http://10.0.0.${i}:80`));
    }
    channels.upstream.publish(upstream('ns', 'up', 'http://10.0.0.0:80', 'ECONNREFUSED', true));
    channels.upstream.publish(upstream('ns', 'up', 'http://10.0.0.99:80', 'ECONNREFUSED'));
    channels.upstream.publish(upstream('ns', 'other-svc', 'http://10.0.0.99:80'));
    const json = await metrics.toJSON();
    const names = ['namespace', 'service', 'upstream'];
    const counts = new Map(values(json, 'dgate_upstream_duration_seconds').filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count')).map((v) => [key(v.labels, names), v.value]));
    const kept = [...counts.keys()].filter((k) => k.startsWith('ns|up|') && !k.endsWith('|other'));
    assert.equal(kept.length, ORIGINS_PER_SERVICE, kept.join(' '));
    // every kept origin counted both rounds, the first one its retry too
    assert.equal(counts.get('ns|up|http://10.0.0.0:80'), 3);
    assert.equal(counts.get(`ns|up|http://10.0.0.${ORIGINS_PER_SERVICE - 1}:80`), 2);
    // 5 origins past the cap, twice, and the failed attempt of another one
    assert.equal(counts.get('ns|up|other'), 11);
    assert.equal(counts.get('ns|other-svc|http://10.0.0.99:80'), 1);
    const retries = values(json, 'dgate_upstream_retries_total').map((v) => `${key(v.labels, names)}=${v.value}`);
    assert.deepEqual(retries, ['ns|up|http://10.0.0.0:80=1']);
    const errors = values(json, 'dgate_upstream_errors_total').map((v) => `${key(v.labels, names)}|${v.labels.error}=${v.value}`);
    assert.deepEqual(errors.sort(), ['ns|up|http://10.0.0.0:80|ECONNREFUSED=1', 'ns|up|other|ECONNREFUSED=1']);
  });
});

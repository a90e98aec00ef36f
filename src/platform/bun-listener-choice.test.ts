import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bunListenerFor } from './bun-listener-choice.js';
import { DEFAULT_LISTENER_LIMITS } from './listener-limits.js';

const limits = (over: Partial<typeof DEFAULT_LISTENER_LIMITS>) => ({ ...DEFAULT_LISTENER_LIMITS, ...over });

test('auto keeps Bun.serve under the default limits and without a connection cap', () => {
  assert.equal(bunListenerFor('auto', DEFAULT_LISTENER_LIMITS), 'bun_serve');
  assert.equal(bunListenerFor('auto', limits({ maxConnections: 0 })), 'bun_serve');
  // limits Bun.serve's adapter checks itself do not matter
  assert.equal(bunListenerFor('auto', limits({ maxHeaderBytes: 4096, maxUrlBytes: 1024, requestTimeoutMs: 5000, idleTimeoutMs: 5000 })), 'bun_serve');
});

test("auto takes Bun's node:http for a head deadline other than Bun.serve's or a connection cap", () => {
  assert.equal(bunListenerFor('auto', limits({ headerTimeoutMs: 5000 })), 'node_http');
  assert.equal(bunListenerFor('auto', limits({ headerTimeoutMs: 15_000 })), 'node_http');
  assert.equal(bunListenerFor('auto', limits({ maxConnections: 500 })), 'node_http');
});

test('an explicit choice wins over the limits', () => {
  assert.equal(bunListenerFor('bun_serve', limits({ headerTimeoutMs: 5000, maxConnections: 5 })), 'bun_serve');
  assert.equal(bunListenerFor('node_http', DEFAULT_LISTENER_LIMITS), 'node_http');
});

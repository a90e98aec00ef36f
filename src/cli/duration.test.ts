import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationNanos } from './duration.js';

test('Go duration strings and integer nanoseconds', () => {
  assert.equal(durationNanos('50ms'), 50_000_000);
  assert.equal(durationNanos('1h30m'), 5_400_000_000_000);
  assert.equal(durationNanos('1.5s'), 1_500_000_000);
  assert.equal(durationNanos('250us'), 250_000);
  assert.equal(durationNanos('0'), 0);
  assert.equal(durationNanos(1000), 1000);
  assert.equal(durationNanos('-1s'), -1_000_000_000);
});

test('anything else is not a duration', () => {
  for (const v of ['', '5', 's', '1x', '5 seconds', 1.5, null, {}]) assert.equal(durationNanos(v), null, String(v));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from './duration.js';

test('integers are nanoseconds, as DGate sends them', () => {
  assert.equal(parseDuration(0), 0);
  assert.equal(parseDuration(50_000_000), 50_000_000);
  assert.equal(parseDuration(-5), -5);
});

test('Go duration strings become nanoseconds', () => {
  assert.equal(parseDuration('50ms'), 50_000_000);
  assert.equal(parseDuration('1.5s'), 1_500_000_000);
  assert.equal(parseDuration('1h30m'), 5_400_000_000_000);
  assert.equal(parseDuration('250us'), 250_000);
  assert.equal(parseDuration('250µs'), 250_000);
  assert.equal(parseDuration('100ns'), 100);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('.5s'), 500_000_000);
  assert.equal(parseDuration('1.s'), 1_000_000_000);
  assert.equal(parseDuration('-2m'), -120_000_000_000);
  assert.equal(parseDuration('+3s'), 3_000_000_000);
  assert.equal(parseDuration('1m30s250ms'), 90_250_000_000);
  assert.equal(parseDuration('1.0000000019s'), 1_000_000_001, 'fractions truncate to whole nanoseconds');
});

test('anything else is not a duration', () => {
  for (const v of ['', '5', '1.5', 's', '.s', '5 s', '5sec', '1d', '1.5.3s', 'ms5', '-', '1h 30m', '5S'] as const) {
    assert.equal(parseDuration(v), null, JSON.stringify(v));
  }
  for (const v of [1.5, NaN, Infinity, 2 ** 60, true, null, undefined, {}, ['1s']]) {
    assert.equal(parseDuration(v), null, String(v));
  }
});

test('durations too large to be exact in a JS number are refused', () => {
  assert.equal(parseDuration('2540400h'), null);
  assert.equal(parseDuration('1000h'), 3_600_000_000_000_000);
});

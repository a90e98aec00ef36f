import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nsToMs, parseDuration } from './duration.js';

test('parseDuration reads Go duration strings as nanoseconds', () => {
  assert.equal(parseDuration('100ns'), 100);
  assert.equal(parseDuration('250us'), 250_000);
  assert.equal(parseDuration('250µs'), 250_000);
  assert.equal(parseDuration('250μs'), 250_000);
  assert.equal(parseDuration('50ms'), 50_000_000);
  assert.equal(parseDuration('1.5s'), 1_500_000_000);
  assert.equal(parseDuration('.5s'), 500_000_000);
  assert.equal(parseDuration('2m'), 120_000_000_000);
  assert.equal(parseDuration('1h30m'), 5_400_000_000_000);
  assert.equal(parseDuration('1m30s500ms'), 90_500_000_000);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('+1s'), 1e9);
});

test('parseDuration takes non-negative integers as nanoseconds', () => {
  assert.equal(parseDuration(0), 0);
  assert.equal(parseDuration(5_000_000), 5_000_000);
  assert.equal(parseDuration(-1), null);
  assert.equal(parseDuration(1.5), null);
  assert.equal(parseDuration(Number.NaN), null);
});

test('parseDuration rejects malformed and negative strings', () => {
  for (const bad of ['', '10', 'ms', '1x', '1.5', 's1', '-1s', '1s ', ' 1s', '1d', '1.s.', '1sm', 'abc']) {
    assert.equal(parseDuration(bad), null, bad);
  }
});

test('nsToMs converts to (possibly fractional) milliseconds', () => {
  assert.equal(nsToMs(1_500_000_000), 1500);
  assert.equal(nsToMs(250_000), 0.25);
});

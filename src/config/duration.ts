/**
 * Durations as DGate writes them: either integer nanoseconds (the JSON wire form) or a Go
 * duration string such as "50ms", "1.5s", "2m", "1h30m", "250us", "100ns".
 *
 * Differences from Go's time.ParseDuration, on purpose:
 * - negative durations are rejected (no timeout or wait can be negative);
 * - a string made only of digits is NOT accepted here (Go rejects it too, except "0"); callers
 *   that want to read "1000000" as nanoseconds (e.g. config coercion) convert it themselves.
 */

const NS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5 micro sign
  'μs': 1e3, // U+03BC greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

// One "<number><unit>" segment. Longer units come first in the alternation so "ms" is not read as "m".
const SEGMENT = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/y;

/** Nanoseconds for `value`, or null when it is not a valid non-negative duration. */
export function parseDuration(value: string | number): number | null {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : null;
  }
  if (typeof value !== 'string') return null;

  let text = value;
  if (text.startsWith('+')) text = text.slice(1);
  if (text === '0') return 0;
  if (text === '') return null;

  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    SEGMENT.lastIndex = pos;
    const m = SEGMENT.exec(text);
    if (!m) return null;
    const whole = m[1] ?? '';
    const frac = m[2] ?? '';
    if (whole === '' && frac === '') return null; // a unit without digits, e.g. "ms" or ".s"
    const amount = Number(`${whole || '0'}.${frac || '0'}`);
    total += amount * (NS_PER_UNIT[m[3] as string] as number);
    pos = SEGMENT.lastIndex;
  }
  total = Math.round(total);
  return Number.isSafeInteger(total) ? total : null;
}

/** Milliseconds for a nanosecond count (may be fractional, e.g. 250us → 0.25). */
export function nsToMs(ns: number): number {
  return ns / 1e6;
}

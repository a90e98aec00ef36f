/**
 * Durations as DGate carries them on the wire: integer nanoseconds. Go-style strings such as
 * "50ms", "1.5s", "1h30m", "250us" or "100ns" are accepted too, with Go's grammar:
 * an optional sign, then one or more <number><unit> segments; a bare "0" needs no unit.
 */
const NS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const SEGMENT = /(\d*)(?:\.(\d*))?([a-zµμ]+)/y;
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Nanoseconds from an integer or a duration string; null when the value is not a duration (or too large to be exact). */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value !== 'string') return null;
  let s = value;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return null;
  let total = 0n;
  SEGMENT.lastIndex = 0;
  while (SEGMENT.lastIndex < s.length) {
    const m = SEGMENT.exec(s);
    if (m === null) return null;
    const [, whole = '', frac, unitName = ''] = m;
    const unit = NS_PER_UNIT[unitName];
    if (unit === undefined || (whole === '' && (frac === undefined || frac === ''))) return null;
    total += BigInt(whole || '0') * unit;
    // Fractions are truncated to whole nanoseconds, as Go does.
    if (frac) total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    if (total > MAX) return null;
  }
  return Number(negative ? -total : total);
}

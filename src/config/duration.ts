/**
 * Durations in the config file: integer nanoseconds (DGate's form) or Go duration strings
 * ("50ms", "1.5s", "1h30m"), parsed by core/duration.ts. No timeout or wait can be negative,
 * so negative durations are refused here.
 */
import { parseDuration as parseAnyDuration } from '../core/duration.js';

/** Nanoseconds for `value`, or null when it is not a valid non-negative duration. */
export function parseDuration(value: string | number): number | null {
  const ns = parseAnyDuration(value);
  return ns === null || ns < 0 ? null : ns;
}

/** Milliseconds for a nanosecond count (may be fractional, e.g. 250us → 0.25). */
export function nsToMs(ns: number): number {
  return ns / 1e6;
}

/**
 * Durations ("50ms", "1.5s", "1h30m") as the integer nanoseconds the admin API answers with.
 * The CLI needs this only to compare a declarative file's durations with stored ones; what it
 * sends, the server parses. The grammar is the gateway's own (a pure function of core).
 */
import { parseDuration } from '../core/duration.js';

/** Nanoseconds, or null when `value` is neither a safe integer nor a duration string. */
export function durationNanos(value: unknown): number | null {
  return parseDuration(value);
}

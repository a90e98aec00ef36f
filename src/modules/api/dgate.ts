import { setTimeout as delay } from 'node:timers/promises';
import type { ModuleHost } from '../host.js';
import * as crypto from './crypto.js';
import * as http from './http.js';
import * as secrets from './secrets.js';
import * as state from './state.js';
import * as storage from './storage.js';
import * as util from './util.js';
import { durationMs } from './util.js';

/**
 * `dgate`: the root import. Timing helpers plus every other dgate/* import as a sub-object
 * (`import { sleep, crypto } from 'dgate'`).
 *
 * `sleep` returns a Promise and must be awaited (`await sleep(0.5)`): it never blocks the
 * process, so other requests keep being served while one waits (DGate's blocked the JS thread
 * and truncated 0.5 s to nothing). `retry` resolves with the result of the first attempt that
 * does not throw (DGate's was fire-and-forget and returned undefined).
 */
export const name = 'dgate';

/** setTimeout's own limit (about 24.8 days); a longer delay would fire almost at once */
const MAX_SLEEP_MS = 2 ** 31 - 1;

export interface RetryOptions {
  /** wait between attempts: seconds or a duration string, as sleep */
  delay?: number | string;
}

/** Not unref'd: a request waiting on a sleep is work in progress and keeps the process alive. */
async function sleep(duration: number | string): Promise<void> {
  const ms = durationMs(duration, 'sleep duration');
  if (ms > MAX_SLEEP_MS) throw new RangeError(`sleep duration too long: ${String(duration)} (at most ${MAX_SLEEP_MS} ms)`);
  await delay(ms);
}

async function retry<T>(times: number, fn: (attempt: number) => T | Promise<T>, opts: RetryOptions = {}): Promise<T> {
  if (!Number.isInteger(times) || times < 1) throw new RangeError(`retry: times must be an integer of 1 or more, got ${String(times)}`);
  if (typeof fn !== 'function') throw new TypeError('retry: fn must be a function');
  const pause = opts?.delay === undefined ? 0 : durationMs(opts.delay, 'retry delay');
  let lastError: unknown;
  for (let attempt = 1; attempt <= times; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      lastError = err;
    }
    if (attempt < times && pause > 0) await delay(Math.min(pause, MAX_SLEEP_MS));
  }
  throw lastError;
}

export function create(host: ModuleHost): Record<string, unknown> {
  return {
    sleep,
    /** the same as sleep (DGate had a blocking and an async variant; both are async here) */
    asyncSleep: sleep,
    fail(message: string): never {
      throw new Error(message === undefined ? '' : String(message));
    },
    retry,
    http: http.create(host),
    crypto: crypto.create(host),
    state: state.create(host),
    storage: storage.create(host),
    util: util.create(host),
    secrets: secrets.create(host),
  };
}

import type { ModuleHost } from '../host.js';

/**
 * `dgate/storage`: a small key/value cache shared by the modules of one namespace.
 *
 * It lives in `host.cache`, so it is process-local: it is neither persisted nor replicated, each
 * worker process and each node has its own, and it is empty after a restart. Use dgate/state
 * documents for anything that must survive or be seen everywhere.
 *
 * Values are structuredClone'd on the way in and out, so a module cannot change a stored value
 * by mutating an object it passed or received (functions and other uncloneable values throw).
 * The cache holds at most MAX_ENTRIES keys; past that the entry written longest ago is dropped.
 * Expired entries are removed when read or when evicted.
 * (DGate's setCache and getCache used different keys, so nothing set could ever be read back.)
 */
export const name = 'dgate/storage';

export const MAX_ENTRIES = 10_000;

export interface SetCacheOptions {
  /** seconds until the entry expires (> 0); absent → kept until evicted or deleted */
  ttl?: number;
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string') throw new TypeError('cache key must be a string');
  return key;
}

function expiry(opts: unknown, now: number): number {
  if (opts === undefined || opts === null) return Infinity;
  if (typeof opts !== 'object') throw new TypeError('setCache options must be an object such as { ttl: 60 }');
  const ttl = (opts as SetCacheOptions).ttl;
  if (ttl === undefined || ttl === null) return Infinity;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) {
    throw new RangeError(`ttl must be a positive number of seconds, got ${String(ttl)}`);
  }
  return now + ttl * 1000;
}

export function create(host: ModuleHost): Record<string, unknown> {
  const cache = host.cache;

  return {
    setCache(key: string, value: unknown, opts?: SetCacheOptions): void {
      const k = checkKey(key);
      const expires = expiry(opts, Date.now());
      const entry = { value: structuredClone(value), expires };
      // Re-inserting moves the key to the end of the Map's order, which is the eviction order.
      cache.delete(k);
      while (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(k, entry);
    },

    /** the value stored under `key`, or null when there is none or it has expired */
    getCache(key: string): unknown {
      const k = checkKey(key);
      const entry = cache.get(k);
      if (entry === undefined) return null;
      if (entry.expires <= Date.now()) {
        cache.delete(k);
        return null;
      }
      return structuredClone(entry.value);
    },

    /** true when something was stored under `key` (expired or not) */
    deleteCache(key: string): boolean {
      return cache.delete(checkKey(key));
    },
  };
}

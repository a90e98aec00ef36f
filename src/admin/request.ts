import type { IncomingMessage } from 'node:http';
import { Errors, invalidField } from '../core/errors.js';
import { MAX_BODY_BYTES, tooDeep, tooDeepProblem } from '../core/limits.js';

export { MAX_BODY_BYTES };

/** An admin request as handlers see it: path parameters, query and a JSON body read on demand. */
export class AdminRequest {
  readonly method: string;
  readonly pathname: string;
  readonly query: URLSearchParams;
  params: Record<string, string> = {};
  readonly raw: IncomingMessage;
  #body: Promise<unknown> | undefined;

  constructor(raw: IncomingMessage) {
    this.raw = raw;
    this.method = raw.method ?? 'GET';
    // Split by hand: `new URL(path, base)` would read "//x/y" as a host.
    const url = raw.url ?? '/';
    const q = url.indexOf('?');
    this.pathname = q < 0 ? url : url.slice(0, q);
    this.query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  }

  /**
   * The parsed JSON body; undefined when the body is empty. Rejects with 400 (bad JSON, or nested
   * deeper than MAX_NESTING_DEPTH: the message names the top-level field) or 413.
   */
  body(): Promise<unknown> {
    this.#body ??= readJson(this.raw, MAX_BODY_BYTES);
    return this.#body;
  }

  /** A query parameter, with "" read as absent (as Go's Query().Get does). */
  param(name: string): string | undefined {
    const v = this.query.get(name);
    return v === null || v === '' ? undefined : v;
  }

  /** A non-negative integer query parameter no larger than `max`; absent → `fallback`; else 400 naming it. */
  integer<T extends number | undefined>(name: string, fallback: T, max = Number.MAX_SAFE_INTEGER): number | T {
    const raw = this.param(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n > max) throw invalidField(name, `must be an integer between 0 and ${max}`);
    return n;
  }
}

/**
 * After a body turns out too large, up to this many bytes in all are still read (and dropped)
 * before the 413 goes out: a client that is still sending then reads the answer instead of
 * failing on a reset connection. Past this, the 413 is sent at once.
 */
const DRAIN_LIMIT = 64 * 1024 * 1024;

function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const refuse = () => {
      req.off('data', onData).off('end', onEnd).resume();
      reject(Errors.BODY_TOO_LARGE(limit));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > DRAIN_LIMIT) return refuse();
      if (tooLarge) return;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (tooLarge) return reject(Errors.BODY_TOO_LARGE(limit));
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        return reject(Errors.BAD_JSON((err as Error).message));
      }
      const deep = tooDeep(value);
      if (deep !== null) return reject(invalidField(deep.field, tooDeepProblem()));
      resolve(value);
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > DRAIN_LIMIT) return refuse();
    tooLarge = declared > limit;
    req.on('data', onData).on('end', onEnd).on('error', reject);
  });
}

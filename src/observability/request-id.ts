/**
 * Request ids and W3C trace context (https://www.w3.org/TR/trace-context/) on the proxy path.
 *
 * The proxy settles a request's id once, on `req.headers['x-request-id']` (and in the raw
 * headers, so the upstream and module code see the same value), and tags the response object
 * with it so that every answer — proxied, from a module or from the gateway — returns it.
 */
import { randomFillSync, randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** lowercase, as in `req.headers` */
export const REQUEST_ID_KEY = 'x-request-id';
/** longest client request id kept */
export const REQUEST_ID_MAX_LENGTH = 128;

/** a client's id is kept only when it is 1..128 of these characters */
const SAFE_ID = /^[A-Za-z0-9._:+=@/-]{1,128}$/;

export function isValidRequestId(value: string | undefined): value is string {
  return value !== undefined && SAFE_ID.test(value);
}

/** A random UUID (v4); the runtime draws randomness in batches, not per call. */
export function newRequestId(): string {
  return randomUUID();
}

/**
 * A traceparent as W3C trace-context §3.2 parses it: version (2 hex, not ff), trace-id (32 hex,
 * not all zero), parent-id (16 hex, not all zero), flags (2 hex), lowercase, dash-separated.
 * Version 00 has exactly these four fields; a later version may append "-..." (§3.2.4.2).
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_PARENT = '0000000000000000';

export function isValidTraceparent(value: string | undefined): value is string {
  if (value === undefined || value.length < 55) return false;
  const m = TRACEPARENT.exec(value);
  if (m === null) return false;
  const [, version, traceId, parentId, , rest] = m;
  if (version === 'ff' || traceId === ZERO_TRACE || parentId === ZERO_PARENT) return false;
  return version === '00' ? rest === undefined : true;
}

/** Random bytes drawn 4 KiB at a time (one system call per 170 traceparents). */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const hex = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return hex;
}

/** A new trace: random trace-id and parent-id, sampled flag set (00-<32 hex>-<16 hex>-01). */
export function newTraceparent(): string {
  let traceId = randomHex(16);
  while (traceId === ZERO_TRACE) traceId = randomHex(16);
  let parentId = randomHex(8);
  while (parentId === ZERO_PARENT) parentId = randomHex(8);
  return `00-${traceId}-${parentId}-01`;
}

/** The response object carries the id it must answer with (absent: request ids are off). */
const ANSWER_ID = Symbol('dgate.requestId');
type Tagged = { [ANSWER_ID]?: string };

export function tagAnswer(res: object, id: string): void {
  (res as Tagged)[ANSWER_ID] = id;
}

/** the request id an answer on `res` carries, or undefined */
export function answerId(res: object): string | undefined {
  return (res as Tagged)[ANSWER_ID];
}

/** `headers` (a flat [name, value, ...] list, changed in place) with the answer's request id */
export function withAnswerId(res: object, headers: string[]): string[] {
  const id = (res as Tagged)[ANSWER_ID];
  if (id !== undefined) headers.push(REQUEST_ID_HEADER, id);
  return headers;
}

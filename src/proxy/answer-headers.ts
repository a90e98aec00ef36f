import { REQUEST_ID_HEADER } from '../observability/request-id.js';
import type { ProxyResponse } from '../platform/exchange.js';
import { connectionTokens, HOP_BY_HOP } from './hop-headers.js';

/** A header name or value as the client received it (undici hands out bytes, fetch strings). */
function latin1(v: Buffer | string): string {
  return typeof v === 'string' ? v : v.toString('latin1');
}

/** The upstream's response headers as strings, minus hop-by-hop ones (and `drop`, a lowercase name). */
export function responseHeaders(rawHeaders: ReadonlyArray<Buffer | string>, drop: string | null = null): string[] {
  const out: string[] = [];
  let extraHop: Set<string> | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = latin1(rawHeaders[i]);
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') extraHop = connectionTokens(latin1(rawHeaders[i + 1]));
      continue;
    }
    if (lower === drop) continue;
    out.push(name, latin1(rawHeaders[i + 1]));
  }
  if (extraHop !== null) {
    for (let i = out.length - 2; i >= 0; i -= 2) if (extraHop.has(out[i].toLowerCase())) out.splice(i, 2);
  }
  return out;
}

/** A fetch Headers as a flat [name, value, ...] list (each Set-Cookie on its own). */
export function headerList(h: Headers): string[] {
  const out: string[] = [];
  h.forEach((value, name) => {
    if (name !== 'set-cookie') out.push(name, value);
  });
  for (const cookie of h.getSetCookie()) out.push('set-cookie', cookie);
  return out;
}

/** Removes hop-by-hop headers (and those the Connection header names) from an upstream's Headers, in place. */
export function dropHopByHop(h: Headers): void {
  const connection = h.get('connection');
  const extraHop = connection === null ? null : connectionTokens(connection);
  for (const name of HOP_BY_HOP) h.delete(name);
  if (extraHop !== null) for (const name of extraHop) h.delete(name);
}

const NONE: readonly string[] = [];

/**
 * Puts `a` then `b` (flat [name, value, ...] lists) before the values `h` already has under the
 * same names, as a list [...a, ...b, ...h] turned into Headers would.
 */
function putFirst(h: Headers, a: readonly string[], b: readonly string[]): void {
  if (a.length === 0 && b.length === 0) return;
  const front = a.length === 0 ? b : b.length === 0 ? a : [...a, ...b];
  const seen = new Set<string>();
  for (let i = 0; i < front.length; i += 2) {
    const key = front[i].toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const after = key === 'set-cookie' ? h.getSetCookie() : h.has(key) ? [h.get(key)!] : NONE;
    h.delete(key);
    for (let j = i; j < front.length; j += 2) if (front[j].toLowerCase() === key) h.append(front[j], front[j + 1]);
    for (const v of after) h.append(key, v);
  }
}

/**
 * A module route's upstream answer made the client's in place (Bun hands its Headers on): hop-by-hop
 * names and `drop` out, the modifiers' `edits`, `global` then `own` (set on ctx.response()) before
 * the upstream's values of the same names, the request id. The same values as the list
 * [...global, ...own, ...upstream's, id] gives.
 */
export function editForClient(h: Headers, drop: string | null, edits: { applyTo(h: Headers): void } | null, global: readonly string[], own: readonly string[] | undefined, answerId: string | undefined): void {
  dropHopByHop(h);
  if (drop !== null) h.delete(drop);
  edits?.applyTo(h);
  putFirst(h, global, own ?? NONE);
  if (answerId !== undefined) h.append(REQUEST_ID_HEADER, answerId);
}

/**
 * The upstream's trailers (a flat [name, value, ...] list, bytes from undici or strings) to an
 * HTTP/2 client, after the body: gRPC's status travels there.
 */
export function sendTrailers(res: ProxyResponse, trailers: unknown): void {
  if (!Array.isArray(trailers) || trailers.length === 0) return;
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < trailers.length; i += 2) {
    const name = latin1(trailers[i] as Buffer | string).toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    const value = latin1(trailers[i + 1] as Buffer | string);
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  res.addTrailers?.(out);
}

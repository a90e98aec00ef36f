import type { ProxyRequest, ProxyResponse } from '../platform/exchange.js';
import {
  isValidRequestId,
  isValidTraceparent,
  newRequestId,
  newTraceparent,
  REQUEST_ID_HEADER,
  REQUEST_ID_KEY,
  tagAnswer,
} from '../observability/request-id.js';

/** proxy.request_id and proxy.tracing, computed once from the config. */
export interface IdentityOptions {
  /** proxy.request_id.enabled: keep or give each request an X-Request-Id and answer with it */
  requestId: boolean;
  /** proxy.tracing.start_traceparent: start a W3C trace when a request has no (valid) traceparent */
  startTraceparent: boolean;
}

/**
 * Settles a request's id and trace context before anything reads the headers: the values are
 * written to `req.headers` and to `req.rawHeaders` (what the upstream and module code receive).
 *   X-Request-Id: a client's valid id is kept; an absent or invalid one is replaced by a new id.
 *   traceparent: a valid one passes unchanged; an invalid one (or several) is dropped with its
 *   tracestate (W3C trace-context §3.2: a vendor that cannot parse it must not forward it as is)
 *   and, like an absent one, replaced by a new trace when startTraceparent is on.
 */
export function identify(req: ProxyRequest, res: ProxyResponse, opts: IdentityOptions): void {
  const headers = req.headers as Record<string, string | undefined>;
  if (opts.requestId) {
    let id = headers[REQUEST_ID_KEY];
    if (!isValidRequestId(id)) {
      if (id !== undefined) dropRaw(req.rawHeaders, REQUEST_ID_KEY);
      id = newRequestId();
      req.rawHeaders.push(REQUEST_ID_HEADER, id);
      headers[REQUEST_ID_KEY] = id;
    }
    tagAnswer(res, id);
  }
  const traceparent = headers['traceparent'];
  if (traceparent === undefined ? !opts.startTraceparent : isValidTraceparent(traceparent)) return;
  if (traceparent !== undefined || headers['tracestate'] !== undefined) {
    dropRaw(req.rawHeaders, 'traceparent');
    dropRaw(req.rawHeaders, 'tracestate');
    delete headers['traceparent'];
    delete headers['tracestate'];
  }
  if (opts.startTraceparent) {
    const started = newTraceparent();
    req.rawHeaders.push('traceparent', started);
    headers['traceparent'] = started;
  }
}

/**
 * identify's rules on a fetch Headers `headers` (edited in place), given the values identify
 * reads: `id` (X-Request-Id), `traceparent`, and whether there is a tracestate. Returns the id
 * the answer carries (undefined: request ids are off).
 */
export function identifyHeaders(headers: Headers, id: string | undefined, traceparent: string | undefined, tracestate: boolean, opts: IdentityOptions): string | undefined {
  let answer: string | undefined;
  if (opts.requestId) {
    if (!isValidRequestId(id)) {
      const fresh = newRequestId();
      if (id === undefined) headers.append(REQUEST_ID_HEADER, fresh);
      else headers.set(REQUEST_ID_HEADER, fresh);
      id = fresh;
    }
    answer = id;
  }
  if (traceparent === undefined ? !opts.startTraceparent : isValidTraceparent(traceparent)) return answer;
  if (traceparent !== undefined || tracestate) {
    headers.delete('traceparent');
    headers.delete('tracestate');
  }
  if (opts.startTraceparent) headers.append('traceparent', newTraceparent());
  return answer;
}

/** removes every `lower` header from a flat [name, value, ...] list, in place */
function dropRaw(raw: string[], lower: string): void {
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if (raw[i].length === lower.length && raw[i].toLowerCase() === lower) raw.splice(i, 2);
  }
}

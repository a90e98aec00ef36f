import type { ProxyResponse } from '../platform/exchange.js';
import { REQUEST_ID_HEADER } from '../observability/request-id.js';
import { dropHopByHop, sendTrailers } from './answer-headers.js';
import type { AnswerStage } from './answer-stage.js';
import { reply } from './gateway-responses.js';

/**
 * A streamed answer's head (no Content-Length: SSE, a chunked body) goes out at the end of the
 * current job when no body bytes followed it (node:http otherwise holds it until the first body
 * write): it reaches the client when the upstream's does, not with a first chunk that may come
 * much later. An answer whose body came with its head still goes out in one write, and one with
 * a Content-Length is left as node:http sends it (head and body together).
 */
export function headNotHeld(res: ProxyResponse, headers: readonly string[]): void {
  if (res.flushHeaders === undefined) return;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name.length === 14 && name.toLowerCase() === 'content-length') return;
  }
  queueMicrotask(() => {
    if (!res.writableEnded && !res.destroyed) res.flushHeaders!();
  });
}

/**
 * The upstream's answer to the client as it comes: its status and headers (plus global headers
 * and the request id), then its body chunk by chunk with the client's back-pressure, then its
 * trailers (HTTP/2 clients). On Bun the body stream is handed to the listener untouched.
 * A failure before the head is a 502 (504 when the upstream was too slow); after it, the
 * client's connection is closed. Holds nothing per request: one object serves every exchange.
 */
export const ANSWER_TO_CLIENT: AnswerStage = {
  head(ex, statusCode, headers) {
    const global = ex.opts.globalHeaders;
    const out: string[] = global.length === 0 ? headers : [...global, ...headers];
    if (ex.answerId !== undefined) out.push(REQUEST_ID_HEADER, ex.answerId);
    ex.res.writeHead(statusCode, out);
    headNotHeld(ex.res, out);
    return true;
  },

  stream(ex, statusCode, headers, body, response) {
    ex.done = true;
    ex.upstreamEnded(null);
    // the upstream's answer is not used otherwise: its headers are edited in place
    dropHopByHop(headers);
    const global = ex.opts.globalHeaders;
    for (let i = 0; i < global.length; i += 2) headers.append(global[i], global[i + 1]);
    if (ex.answerId !== undefined) headers.set(REQUEST_ID_HEADER, ex.answerId);
    ex.res.sendStream!(statusCode, headers, body, response);
    return true;
  },

  data(ex, chunk) {
    if (ex.res.write(chunk)) return true;
    ex.res.once('drain', ex.resume!);
    return false;
  },

  complete(ex, trailers) {
    ex.done = true;
    if (trailers != null && ex.req.httpVersionMajor === 2) sendTrailers(ex.res, trailers);
    ex.res.end();
  },

  failed(ex, err, timedOut) {
    void err;
    const res = ex.res;
    if (res.headersSent) res.destroy();
    else if (timedOut) reply.gatewayTimeout(res);
    else reply.badGateway(res);
  },
};

import type { RequestSource } from './request-source.js';
import { hasBody, upstreamHeaders } from './upstream-request.js';

/**
 * The client's request, as it came: the service's next target on each attempt, the client's
 * method, query and headers (minus hop-by-hop, plus forwarding ones), its body streamed once.
 * Holds nothing per request: one object serves every exchange.
 */
export const CLIENT_REQUEST: RequestSource = {
  target: (ex) => ex.route.service!.next(),
  method: (ex) => ex.req.method!,
  query: (ex) => ex.query,
  headers: (ex, target) => upstreamHeaders(ex.req, ex.req.rawHeaders, ex.route, target, ex.opts),
  body: (ex, attempt) => (attempt === 0 && hasBody(ex.req) ? ex.req : null),
};

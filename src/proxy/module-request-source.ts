import type { ProxyRequest } from '../platform/exchange.js';
import type { ModuleContext } from '../modules/ctx/context.js';
import type { UpstreamPool } from '../platform/upstream.js';
import type { Target } from '../runtime/service-runtime.js';
import { CLIENT_REQUEST } from './client-request-source.js';
import type { RequestSource } from './request-source.js';
import type { UpstreamExchange } from './upstream-exchange.js';
import { upstreamHeaders } from './upstream-request.js';

/**
 * A module route's request as module code left it: the fetchUpstream target (else the
 * service's next), and the method, query, headers and body set on ctx.request(); what module
 * code did not touch is the client's.
 */
export class ModuleRequestSource implements RequestSource {
  readonly #ctx: ModuleContext;
  readonly #target: Target<UpstreamPool> | null;

  constructor(ctx: ModuleContext, target: Target<UpstreamPool> | null) {
    this.#ctx = ctx;
    this.#target = target;
  }

  target(ex: UpstreamExchange): Target<UpstreamPool> {
    return this.#target ?? CLIENT_REQUEST.target(ex);
  }
  method(ex: UpstreamExchange): string {
    return this.#ctx.touchedRequest?.method ?? CLIENT_REQUEST.method(ex);
  }
  query(ex: UpstreamExchange): string {
    return this.#ctx.touchedRequest?.queryString ?? CLIENT_REQUEST.query(ex);
  }
  headers(ex: UpstreamExchange, target: Target<UpstreamPool>): string[] {
    const r = this.#ctx.touchedRequest;
    if (r === null) return CLIENT_REQUEST.headers(ex, target);
    // a body set by module code has a length of its own
    return upstreamHeaders(ex.req, r.touchedHeaders === null ? ex.req.rawHeaders : r.headers.flat(), ex.route, target, ex.opts, r.body !== null);
  }
  body(ex: UpstreamExchange, attempt: number): ProxyRequest | Buffer | null {
    const r = this.#ctx.touchedRequest;
    return r !== null && r.body !== null ? r.body : CLIENT_REQUEST.body(ex, attempt);
  }
}

import type { ProxyRequest, ProxyResponse } from '../platform/exchange.js';
import type { UpstreamPool } from '../platform/upstream.js';
import type { RouteRuntime } from '../runtime/route-runtime.js';
import type { Target } from '../runtime/service-runtime.js';
import { ANSWER_TO_CLIENT } from './answer-to-client.js';
import { CLIENT_REQUEST } from './client-request-source.js';
import { UpstreamExchange } from './upstream-exchange.js';

/** Per-proxy settings the forwarder needs, computed once from the config. */
export interface ForwardOptions {
  /** proxy.global_headers as a flat [name, value, ...] list, set on proxied responses */
  globalHeaders: readonly string[];
  /** send X-Forwarded-For/-Host/-Proto and X-Real-IP (true unless disable_x_forwarded_headers) */
  xForwarded: boolean;
  /** called for every upstream failure that produced a gateway error */
  onUpstreamError: (err: Error, route: RouteRuntime<UpstreamPool>, target: Target<UpstreamPool>) => void;
  /** sees every upstream request as sent (for tooling such as module tests); null = nobody */
  onUpstreamRequest: ((request: UpstreamRequestInfo) => void) | null;
}

export interface UpstreamRequestInfo {
  readonly origin: string;
  readonly path: string;
  readonly method: string;
  /** flat [name, value, ...] list */
  readonly headers: readonly string[];
}

/** Forwards a request of a route without modules: the client's request to the upstream, its answer to the client. */
export function forward(req: ProxyRequest, res: ProxyResponse, route: RouteRuntime<UpstreamPool>, path: string, query: string, params: Record<string, string> | null, opts: ForwardOptions): void {
  new UpstreamExchange(req, res, route, path, query, params, opts, CLIENT_REQUEST, ANSWER_TO_CLIENT).start();
}

import type { ProxyRequest } from '../platform/exchange.js';
import type { UpstreamPool } from '../platform/upstream.js';
import type { Target } from '../runtime/service-runtime.js';
import type { UpstreamExchange } from './upstream-exchange.js';

/**
 * Where an upstream exchange takes its request from, per attempt: the client's request as it
 * came (client-request-source.ts), or as module code left it on ctx (module-request-source.ts).
 */
export interface RequestSource {
  /** the upstream target of this attempt */
  target(ex: UpstreamExchange): Target<UpstreamPool>;
  method(ex: UpstreamExchange): string;
  /** the query string sent upstream, without '?' */
  query(ex: UpstreamExchange): string;
  /** the request headers for `target`, a flat [name, value, ...] list */
  headers(ex: UpstreamExchange, target: Target<UpstreamPool>): string[];
  /** the body of attempt `attempt` (0 first): a stream can be sent only once; null = none */
  body(ex: UpstreamExchange, attempt: number): ProxyRequest | Buffer | null;
}

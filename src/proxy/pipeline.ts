import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UpstreamPool } from '../platform/upstream.js';
import { hostOf } from '../runtime/domains.js';
import type { RuntimeTable } from '../runtime/table.js';
import { forward, overTls } from './forward.js';
import { reply } from './gateway-responses.js';
import { handleModuleRoute, type ModulePathOptions } from './module-pipeline.js';

export interface PipelineOptions extends ModulePathOptions {
  /** proxy.strict_mode: close the connection when no namespace matches the host */
  strictMode: boolean;
  /** the TLS listener's port (redirect_https sends clients there); null without one */
  httpsPort: number | null;
}

/**
 * The per-request path: host → namespace → route → upstream. Reads only the current runtime
 * table; everything it looks up was built when the revision was applied.
 */
export function handleRequest(table: RuntimeTable<UpstreamPool>, req: IncomingMessage, res: ServerResponse, opts: PipelineOptions): void {
  const host = hostOf(req.headers.host);
  if (table.allowedDomain !== null && !table.allowedDomain(host)) return reply.forbidden(res);
  const nsName = table.resolver.resolve(host);
  if (nsName === null) {
    if (opts.strictMode) {
      req.socket.destroy();
      return;
    }
    return reply.notFound(res);
  }
  if (table.redirectHttps !== null && !overTls(req) && table.redirectHttps(host)) {
    // To the same host on the TLS listener's port (left out when it is https's default, 443).
    const port = opts.httpsPort;
    return reply.redirect(res, `https://${host}${port === null || port === 443 ? '' : `:${port}`}${req.url}`);
  }
  const ns = table.namespaces.get(nsName);
  if (ns === undefined || ns.router === null) return reply.notFound(res);

  const url = req.url!;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q + 1);
  const match = ns.router.find(req.method!, path);
  if (match.kind === 'not-found') return reply.notFound(res);
  if (match.kind === 'method-not-allowed') return reply.methodNotAllowed(res, match.allow);
  const route = match.value;
  if (route.hooks !== null) return handleModuleRoute(req, res, route, path, query, match.params, opts);
  // Routes without a service are answered by modules (requestHandler); without any: 501 as DGate.
  if (route.service === null) return reply.notImplemented(res);
  forward(req, res, route, path, query, match.params, opts);
}

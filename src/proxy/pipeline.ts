import type { IncomingMessage, ServerResponse } from 'node:http';
import { limitRequestBody } from '../platform/listener.js';
import { refuse, type OnRefusal } from '../platform/listener-limits.js';
import type { UpstreamPool } from '../platform/upstream.js';
import { hostOf } from '../runtime/domains.js';
import type { RuntimeTable } from '../runtime/table.js';
import { forward } from './forward.js';
import { reply } from './gateway-responses.js';
import { handleModuleRoute, type ModulePathOptions } from './module-pipeline.js';

export interface PipelineOptions extends ModulePathOptions {
  /** proxy.strict_mode: close the connection when no namespace matches the host */
  strictMode: boolean;
  /** proxy.max_body_bytes: body limit of routes without maxBodyBytes; 0 = none */
  maxBodyBytes: number;
  onRefusal: OnRefusal;
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
  if (table.redirectHttps !== null && table.redirectHttps(host)) {
    // To the same host on the default https port (the plain listener's port does not apply).
    return reply.redirect(res, `https://${host}${req.url}`);
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
  const maxBody = route.maxBodyBytes ?? opts.maxBodyBytes;
  if (maxBody > 0 && bodyRefused(req, res, maxBody, opts.onRefusal)) return;
  if (route.hooks !== null) return handleModuleRoute(req, res, route, path, query, match.params, opts);
  // Routes without a service are answered by modules (requestHandler); without any: 501 as DGate.
  if (route.service === null) return reply.notImplemented(res);
  forward(req, res, route, path, query, match.params, opts);
}

/**
 * The body limit of the route: a declared length past it is answered 413 at once (nothing is
 * sent upstream); a chunked body is counted as it streams, and the moment it grows past the
 * limit the answer is 413 (when none has started) and the upstream request fails. Either way
 * the connection closes, the rest of the body unread.
 */
function bodyRefused(req: IncomingMessage, res: ServerResponse, max: number, onRefusal: OnRefusal): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) {
    if (Number(cl) <= max) return false;
    onRefusal('body_too_large');
    refuse(res, 413);
    return true;
  }
  if (req.headers['transfer-encoding'] === undefined) return false;
  limitRequestBody(req, max, () => {
    onRefusal('body_too_large');
    refuse(res, 413);
  });
  return false;
}

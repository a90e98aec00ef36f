import type { ProxyRequest, ProxyResponse } from '../platform/exchange.js';
import type { WebSocketUpgrade } from '../platform/listener.js';
import { limitRequestBody } from '../platform/listener.js';
import { refuse, type OnRefusal } from '../platform/listener-limits.js';
import type { UpstreamPool } from '../platform/upstream.js';
import { hostOf } from '../runtime/domains.js';
import type { RuntimeTable } from '../runtime/table.js';
import { forward } from './forward.js';
import { overTls } from './upstream-request.js';
import { reply } from './gateway-responses.js';
import { handleModuleRoute, type ModulePathOptions } from './module-pipeline.js';
import { identify, type IdentityOptions } from './request-identity.js';
import { meterOf } from './request-meter.js';
import { forwardUpgrade } from './websocket.js';

export interface PipelineOptions extends ModulePathOptions {
  /** proxy.strict_mode: close the connection when no namespace matches the host */
  strictMode: boolean;
  /** request ids and trace context (proxy.request_id, proxy.tracing) */
  identity: IdentityOptions;
  /** the TLS listener's port (redirect_https sends clients there); null without one */
  httpsPort: number | null;
  /** proxy.max_body_bytes: body limit of routes without maxBodyBytes; 0 = none */
  maxBodyBytes: number;
  onRefusal: OnRefusal;
}

/**
 * The per-request path: host → namespace → route → upstream. Reads only the current runtime
 * table; everything it looks up was built when the revision was applied. A WebSocket upgrade
 * (`upgrade`) takes the same path and is tunnelled to the upstream instead of forwarded.
 */
export function handleRequest(table: RuntimeTable<UpstreamPool>, req: ProxyRequest, res: ProxyResponse, opts: PipelineOptions, upgrade: WebSocketUpgrade | null = null): void {
  // first: every later reader (upstream headers, module ctx, logs, observers) sees the same id
  identify(req, res, opts.identity);
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
  const meter = meterOf(req);
  if (meter !== undefined) meter.namespace = nsName;
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
  if (meter !== undefined) {
    meter.route = route.name;
    meter.service = route.service?.name ?? null;
  }
  const maxBody = route.maxBodyBytes ?? opts.maxBodyBytes;
  if (maxBody > 0 && bodyRefused(req, res, maxBody, opts.onRefusal)) return;
  if (upgrade !== null && route.service === null) return reply.upgradeNeedsService(res);
  if (route.hooks !== null) return handleModuleRoute(req, res, route, path, query, match.params, opts, upgrade);
  // Routes without a service are answered by modules (requestHandler); without any: 501 as DGate.
  if (route.service === null) return reply.notImplemented(res);
  if (upgrade !== null) return forwardUpgrade(req, res, upgrade, route, path, query, match.params, opts, opts.websocket, null);
  forward(req, res, route, path, query, match.params, opts);
}

/**
 * The body limit of the route: a declared length past it is answered 413 at once (nothing is
 * sent upstream); a chunked body is counted as it streams, and the moment it grows past the
 * limit the answer is 413 (when none has started) and the upstream request fails. Either way
 * the connection closes, the rest of the body unread.
 */
function bodyRefused(req: ProxyRequest, res: ProxyResponse, max: number, onRefusal: OnRefusal): boolean {
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

import type { ProxyRequest } from '../platform/exchange.js';
import type { UpstreamPool } from '../platform/upstream.js';
import type { RouteRuntime } from '../runtime/route-runtime.js';
import type { Target } from '../runtime/service-runtime.js';
import type { ForwardOptions } from './forward.js';
import { connectionTokens, HOP_BY_HOP } from './hop-headers.js';

/** Whether the client's request has a body (declared length other than 0, or chunked). */
export function hasBody(req: ProxyRequest): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Request headers for the upstream: the client's (`raw`, a flat [name, value, ...] list) minus
 * hop-by-hop, plus forwarding and X-DGate headers.
 */
export function upstreamHeaders(req: ProxyRequest, raw: readonly string[], route: RouteRuntime<UpstreamPool>, target: Target<UpstreamPool>, opts: ForwardOptions, bodyReplaced = false): string[] {
  const out: string[] = [];
  const connection = req.headers.connection;
  const extraHop = connection === undefined ? null : connectionTokens(connection);
  let xff: string | null = null;
  let clientHost = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (extraHop !== null && extraHop.has(lower))) {
      // an HTTP/2 upstream is told the client takes trailers (gRPC requires it); HTTP/1.1 ones are not
      if (lower === 'te' && target.pool.http2 === true && raw[i + 1].trim().toLowerCase() === 'trailers') out.push('te', 'trailers');
      continue;
    }
    if (lower === 'host') {
      clientHost = raw[i + 1];
      continue;
    }
    if (bodyReplaced && lower === 'content-length') continue;
    if (opts.xForwarded && (lower === 'x-forwarded-for' || lower === 'x-forwarded-host' || lower === 'x-forwarded-proto' || lower === 'x-real-ip')) {
      if (lower === 'x-forwarded-for') xff = xff === null ? raw[i + 1] : `${xff}, ${raw[i + 1]}`;
      continue;
    }
    out.push(name, raw[i + 1]);
  }
  out.push('Host', route.preserveHost && clientHost !== '' ? clientHost : target.host);
  if (opts.xForwarded) {
    const ip = req.socket.remoteAddress ?? '';
    out.push('X-Forwarded-For', xff === null ? ip : `${xff}, ${ip}`, 'X-Real-IP', ip, 'X-Forwarded-Proto', overTls(req) ? 'https' : 'http');
    if (clientHost !== '') out.push('X-Forwarded-Host', clientHost);
  }
  for (let i = 0; i < route.dgateHeaders.length; i++) out.push(route.dgateHeaders[i]);
  return out;
}

/** Whether the client's connection is TLS (node:https's sockets and the Bun TLS listener's say so). */
export function overTls(req: ProxyRequest): boolean {
  return (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
}

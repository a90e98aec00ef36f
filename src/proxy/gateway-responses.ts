import type { ProxyResponse } from '../platform/exchange.js';
import { answerId, REQUEST_ID_HEADER } from '../observability/request-id.js';

/**
 * Responses the gateway makes itself. Short fixed bodies that leak nothing internal;
 * the strings are built once.
 */
const TEXT = 'text/plain; charset=utf-8';

function send(res: ProxyResponse, status: number, body: string, extra?: readonly string[]): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers = ['Content-Type', TEXT, 'Content-Length', String(Buffer.byteLength(body)), 'X-Content-Type-Options', 'nosniff'];
  if (extra !== undefined) headers.push(...extra);
  const id = answerId(res);
  if (id !== undefined) headers.push(REQUEST_ID_HEADER, id);
  res.writeHead(status, headers);
  res.end(body);
}

export const reply = {
  notFound: (res: ProxyResponse) => send(res, 404, '404 page not found\n'),
  forbidden: (res: ProxyResponse) => send(res, 403, 'Forbidden\n'),
  methodNotAllowed: (res: ProxyResponse, allow: readonly string[]) => send(res, 405, 'Method Not Allowed\n', ['Allow', allow.join(', ')]),
  notImplemented: (res: ProxyResponse) => send(res, 501, 'Not Implemented\n'),
  /** a WebSocket upgrade on a route without a service (answered by modules): nothing to tunnel to */
  upgradeNeedsService: (res: ProxyResponse) => send(res, 501, 'Not Implemented: WebSocket upgrades need a route with a service\n'),
  internalError: (res: ProxyResponse) => send(res, 500, 'Internal Server Error\n'),
  badGateway: (res: ProxyResponse) => send(res, 502, 'Bad Gateway\n'),
  gatewayTimeout: (res: ProxyResponse) => send(res, 504, 'Gateway Timeout\n'),
  redirect: (res: ProxyResponse, location: string) => send(res, 307, '', ['Location', location]),
};

/** The gateway's own answers as fetch Responses, for requests served from fetch API objects (passthrough.ts). */
export function fetchReply(status: 502 | 504, requestId: string | undefined): Response {
  const body = status === 502 ? 'Bad Gateway\n' : 'Gateway Timeout\n';
  const headers = new Headers([
    ['Content-Type', TEXT],
    ['Content-Length', String(Buffer.byteLength(body))],
    ['X-Content-Type-Options', 'nosniff'],
  ]);
  if (requestId !== undefined) headers.set(REQUEST_ID_HEADER, requestId);
  return new Response(body, { status, headers });
}

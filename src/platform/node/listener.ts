import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Errors } from '../../core/errors.js';
import { listen } from '../../net/listen.js';
import { isBun } from '../runtime.js';
import { reportConnections } from './connections.js';
import type { HttpListener, ListenerOptions, RequestHandler, UpgradeOptions } from '../listener.js';
import { NodeUpgrades } from './upgrade.js';
import { deadlineCheckMs, guardHead, NO_PARSER_GAPS, rawRefusal, refuse, urlOverflowed, type ListenerLimits, type OnRefusal } from '../listener-limits.js';

const BUN_NODE_HTTP_GAPS = { headSize: false, repeatedContentLength: true };

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return (chunk as Uint8Array | null | undefined)?.byteLength ?? 0;
}

/** node:http's response counting the body bytes written (`bodyBytes`, read by request observers). */
class CountingResponse<Req extends http.IncomingMessage = http.IncomingMessage> extends http.ServerResponse<Req> {
  bodyBytes = 0;

  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    this.bodyBytes += byteLength(chunk, encoding);
    return (super.write as (c: unknown, e?: unknown, cb?: unknown) => boolean)(chunk, encoding, cb);
  }

  override end(chunk?: unknown, encoding?: unknown, cb?: unknown): this {
    if (chunk !== undefined && typeof chunk !== 'function') this.bodyBytes += byteLength(chunk, encoding);
    return (super.end as (c?: unknown, e?: unknown, cb?: unknown) => this)(chunk, encoding, cb);
  }
}

/**
 * node:http; a malformed request is answered 400 and closed by the parser, before any handler.
 * Its own options enforce the head size (431), the head and whole-request deadlines (408), the
 * keep-alive idle time and the connection cap; guardHead adds the URL length (414).
 */
export function createListener(opts: ListenerOptions, handler: RequestHandler, upgrade?: UpgradeOptions): HttpListener {
  const { server, upgrades } = createHttpServer(opts, handler, upgrade);
  reportConnections(server, opts.connections);
  return serving(server, upgrades, opts);
}

/** Listens on the configured address; closing stops accepting, closes idle connections and tunnels, and waits for the rest. */
export function serving(server: http.Server, upgrades: NodeUpgrades | null, opts: Pick<ListenerOptions, 'host' | 'port'>): HttpListener {
  return {
    listen: () => listen(server, opts.port, opts.host),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        void upgrades?.close();
      }),
  };
}

/** node:http under the listener limits, with WebSocket upgrades (the plain listener's, and h2c's HTTP/1.1 side). */
export function createHttpServer(opts: ListenerOptions, handler: (req: IncomingMessage, res: ServerResponse) => void, upgrade?: UpgradeOptions): { server: http.Server; upgrades: NodeUpgrades | null } {
  // Bun's node:http takes repeated Content-Length lines (it keeps one): refused here
  const gaps = isBun ? BUN_NODE_HTTP_GAPS : NO_PARSER_GAPS;
  const server = http.createServer(serverOptions(opts.limits), guardHead(opts.limits, opts.onRefusal, handler, gaps));
  guardServer(server, opts);
  const upgrades = upgrade === undefined ? null : new NodeUpgrades(upgrade, server);
  if (upgrades !== null) server.on('upgrade', upgrades.onUpgrade);
  return { server, upgrades };
}

/**
 * node:http(s) server options enforcing the limits node:http knows itself. `parserHeadLimit`:
 * the parser's own head limit when the listener checks `maxHeaderBytes` itself (guardHead with a
 * lax parser); default `maxHeaderBytes`.
 */
export function serverOptions(limits: ListenerLimits, parserHeadLimit = limits.maxHeaderBytes): http.ServerOptions {
  return {
    ServerResponse: CountingResponse,
    keepAliveTimeout: limits.idleTimeoutMs,
    headersTimeout: limits.headerTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxHeaderSize: parserHeadLimit,
    connectionsCheckingInterval: deadlineCheckMs(limits),
  };
}

/** The connection cap and the refusals of node:http's parser (plain and TLS listeners). */
export function guardServer(server: http.Server, opts: Pick<ListenerOptions, 'limits' | 'onRefusal'>): void {
  const limits = opts.limits;
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  server.on('drop', () => opts.onRefusal('connection_limit'));
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => clientError(err, socket, limits, opts.onRefusal));
}

/** A request node:http's parser refused, or a deadline it enforced: answered (when nothing was yet) and closed. */
function clientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket, limits: ListenerLimits, onRefusal: OnRefusal): void {
  // the client went away (reset, or closed its side before the whole request came): nothing to answer, the request ends as 499 (as on Bun)
  if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
    socket.destroy();
    return;
  }
  // the request being answered on this connection, when the parser had handed one out
  const res = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage ?? null;
  let status = 400;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = urlOverflowed(err.rawPacket, limits.maxUrlBytes) ? 414 : 431;
    onRefusal(status === 414 ? 'url_too_long' : 'header_too_large');
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    onRefusal(res === null ? 'header_timeout' : 'request_timeout');
  } else {
    onRefusal('bad_request');
  }
  if (res === null) {
    socket.end(rawRefusal(status));
    return;
  }
  // the body was late or malformed: the pipeline's answer becomes the refusal (its upstream request is aborted when the answer closes)
  if (res.headersSent) socket.destroy();
  else refuse(res, status);
}

/** Counts body bytes where node:http's parser hands them to the request stream. */
export function limitRequestBody(req: IncomingMessage, max: number, onExceed: () => void): void {
  let size = 0;
  let exceeded = false;
  const push = req.push;
  req.push = function (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (exceeded) return false;
    if (chunk !== null && chunk !== undefined) {
      size += (chunk as Buffer).length;
      if (size > max) {
        exceeded = true;
        onExceed();
        this.destroy(Errors.BODY_TOO_LARGE(max));
        return false;
      }
    }
    return push.call(this, chunk, encoding);
  };
}

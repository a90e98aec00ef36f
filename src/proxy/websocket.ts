import type { ProxyRequest, ProxyResponse } from '../platform/exchange.js';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { Errors } from '../core/errors.js';
import { channels } from '../observability/channels.js';
import type { WebSocketUpgrade } from '../platform/listener.js';
import type { UpstreamPool } from '../platform/upstream.js';
import type { ModuleContext } from '../modules/ctx/context.js';
import type { RouteRuntime } from '../runtime/route-runtime.js';
import type { Target } from '../runtime/service-runtime.js';
import { upstreamPath, upstreamQuery } from '../runtime/upstream-url.js';
import type { ForwardOptions } from './forward.js';
import { upstreamHeaders } from './upstream-request.js';
import { reply } from './gateway-responses.js';
import { connectionTokens, HOP_BY_HOP } from './hop-headers.js';
import { isPrivateAddress, privateAddressError, publicOnlyLookup } from './private-addresses.js';

/** proxy.websocket settings, plus the transport settings an upgrade's upstream connection uses. */
export interface WebSocketOptions {
  /** a tunnel without a frame either way for this long is closed with 1001; 0 = never */
  idleTimeoutMs: number;
  /** largest message relayed where the gateway reads messages (Bun), bytes */
  maxMessageBytes: number;
  /** connect timeout when the service sets none (proxy.client_transport.dial_timeout) */
  connectTimeoutMs: number;
  /** time for the upstream's answer to the upgrade when the service sets no requestTimeout */
  handshakeTimeoutMs: number;
  /** proxy.client_transport.disable_private_ips */
  disablePrivateIps: boolean;
}

export const defaultWebSocketOptions: WebSocketOptions = {
  idleTimeoutMs: 300_000,
  maxMessageBytes: 16 * 1024 * 1024,
  connectTimeoutMs: 10_000,
  handshakeTimeoutMs: 30_000,
  disablePrivateIps: false,
};

/** The upstream's answer head is read up to this size. */
const MAX_HEAD = 64 * 1024;
/** A refusal's body is passed on up to this size (the rest is dropped). */
const MAX_REFUSAL_BODY = 1024 * 1024;

/** What a module route's upgrade takes from module code. */
export interface ModuleUpgradeParts {
  ctx: ModuleContext;
  /** the fetchUpstream target, or null for the service's next one */
  target: Target<UpstreamPool> | null;
  /** a failure goes to the module errorHandler path */
  onFailure: (err: Error, status: number) => void;
}

/**
 * A WebSocket upgrade on a route with a service (DGate §3.7: tunnelled): the upgrade request
 * goes to the upstream built as for any request (strip/preserve path, query, forwarding
 * headers, Host rules; http → ws, https → wss), with what a requestModifier changed. A 101
 * answer becomes the client's tunnel; any other answer reaches the client as it is (status,
 * headers, body); an upstream that cannot be reached or answers garbage → 502, too slow → 504.
 * A connection that cannot be made is tried again on the next URL, `retries` times (after
 * `retryTimeout`), as for idempotent HTTP requests.
 */
export function forwardUpgrade(
  req: ProxyRequest,
  res: ProxyResponse,
  upgrade: WebSocketUpgrade,
  route: RouteRuntime<UpstreamPool>,
  path: string,
  query: string,
  params: Record<string, string> | null,
  opts: ForwardOptions,
  ws: WebSocketOptions,
  module: ModuleUpgradeParts | null,
): void {
  const service = route.service!;
  const touched = module?.ctx.touchedRequest ?? null;
  const rest = params === null ? null : (params['*'] ?? null);
  const raw = touched?.touchedHeaders?.flat() ?? req.rawHeaders;
  const definition = service.definition;
  const connectMs = definition.connectTimeout > 0 ? definition.connectTimeout / 1_000_000 : ws.connectTimeoutMs;
  const answerMs = service.requestTimeoutMs > 0 ? service.requestTimeoutMs : ws.handshakeTimeoutMs;
  /** the client left, or the exchange was settled */
  let done = false;
  let current: Socket | null = null;
  res.once('close', () => {
    // the client left before the tunnel was set up
    if (!done) {
      done = true;
      current?.destroy();
    }
  });

  const attempt = (n: number): void => {
    const target = module?.target ?? service.next();
    const upstreamUrl = upstreamPath(target, path, route.stripPath, rest) + upstreamQuery(target, touched?.queryString ?? query, service.disableQueryParams);
    const headers = upstreamHeaders(req, raw, route, target, opts);
    if (upgrade.relay === 'messages') {
      // the gateway reads the upstream's frames itself: no extension (compression) toward it
      for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i].toLowerCase() === 'sec-websocket-extensions') headers.splice(i, 2);
    }
    headers.push('Connection', 'Upgrade', 'Upgrade', 'websocket');
    opts.onUpstreamRequest?.({ origin: target.origin, path: upstreamUrl, method: 'GET', headers });

    let connected = false;
    let over = false;
    const started = performance.now();
    const attempted = (error: string | null) => {
      if (channels.upstream.hasSubscribers) {
        channels.upstream.publish({ namespace: route.namespace, service: service.name, upstream: target.origin, durationMs: performance.now() - started, error, retry: n > 0 });
      }
    };
    const fail = (err: Error, timedOut: boolean) => {
      if (over || done) return;
      over = true;
      clearTimeout(timer);
      socket.destroy();
      attempted((err as { code?: string }).code ?? err.name);
      // nothing reached an upstream that could not be connected to: the next one is tried
      if (!connected && !timedOut && n < service.retries) {
        const wait = service.retryTimeoutMs;
        if (wait > 0) setTimeout(() => done || attempt(n + 1), wait);
        else attempt(n + 1);
        return;
      }
      done = true;
      opts.onUpstreamError(err, route, target);
      if (module !== null) return module.onFailure(err, timedOut ? 504 : 502);
      if (timedOut) reply.gatewayTimeout(res);
      else reply.badGateway(res);
    };

    const socket = connect(target.origin, module?.target != null ? false : definition.tlsSkipVerify, ws.disablePrivateIps);
    current = socket;
    const timer = setTimeout(() => fail(Errors.UPSTREAM_TIMEOUT(answerMs), true), answerMs);
    socket.setTimeout(connectMs, () => fail(Object.assign(new Error(`connect timeout after ${connectMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' }), true));
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => {
      connected = true;
      socket.setTimeout(0);
    });
    socket.on('error', (err) => fail(err, false));

    let head = `GET ${upstreamUrl} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    socket.write(head + '\r\n');

    readAnswer(socket, (err, answer) => {
      clearTimeout(timer);
      if (done || over) return;
      if (err !== null) return fail(err, false);
      const a = answer!;
      if (a.status === 101) {
        if (!/(^|,)\s*websocket\s*(,|$)/i.test(headerValue(a.headers, 'upgrade') ?? '')) return fail(Errors.WEBSOCKET_HANDSHAKE('101 answer without Upgrade: websocket'), false);
        done = true;
        attempted(null);
        socket.removeAllListeners('error');
        socket.removeAllListeners('timeout');
        upgrade.accept(a.headers, socket, a.rest);
        return;
      }
      done = true;
      attempted(null);
      socket.destroy();
      // the upstream refused the upgrade: its answer is the client's
      const out = clientHeaders(a.headers);
      out.push('Content-Length', String(a.rest.length));
      res.writeHead(a.status, out);
      res.end(a.rest);
    });
  };
  attempt(0);
}

function connect(origin: string, skipVerify: boolean, publicOnly: boolean): Socket {
  const u = new URL(origin);
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
  if (publicOnly && isPrivateAddress(host)) {
    const s = new net.Socket();
    process.nextTick(() => s.destroy(privateAddressError(host)));
    return s;
  }
  const lookup = publicOnly ? publicOnlyLookup : undefined;
  if (!secure) return net.connect({ host, port, lookup });
  return tls.connect({ host, port, lookup, servername: net.isIP(host) === 0 ? host : undefined, rejectUnauthorized: !skipVerify, ALPNProtocols: ['http/1.1'] });
}

interface Answer {
  status: number;
  /** flat [name, value, ...] list, as sent */
  headers: string[];
  /** after a 101: bytes past the head (the first frames); else the body */
  rest: Buffer;
}

/** Reads the upstream's answer head (and, for a refusal, its body). */
function readAnswer(socket: Socket, done: (err: Error | null, answer?: Answer) => void): void {
  let buf = Buffer.alloc(0);
  let answer: Answer | null = null;
  let bodyLength: number | null = null;
  let chunked = false;
  let finished = false;
  const finish = (err: Error | null, a?: Answer) => {
    if (finished) return;
    finished = true;
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
    done(err, a);
  };
  const onEnd = () => {
    if (answer === null) return finish(Errors.WEBSOCKET_HANDSHAKE('connection closed before an answer'));
    answer.rest = chunked ? dechunk(buf) ?? buf : buf;
    finish(null, answer);
  };
  const onData = (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (answer === null) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD) finish(Errors.WEBSOCKET_HANDSHAKE('answer head too large'));
        return;
      }
      const parsed = parseHead(buf.subarray(0, end).toString('latin1'));
      if (parsed === null) return finish(Errors.WEBSOCKET_HANDSHAKE('malformed answer'));
      buf = buf.subarray(end + 4);
      answer = { ...parsed, rest: Buffer.alloc(0) };
      if (parsed.status === 101) {
        answer.rest = buf;
        return finish(null, answer);
      }
      if (parsed.status < 200) {
        // an interim answer: the final one follows
        answer = null;
        return onData(Buffer.alloc(0));
      }
      const cl = headerValue(parsed.headers, 'content-length');
      chunked = /chunked/i.test(headerValue(parsed.headers, 'transfer-encoding') ?? '');
      bodyLength = cl !== null && !chunked ? Number(cl) : null;
    }
    if (bodyLength !== null && buf.length >= bodyLength) {
      answer.rest = buf.subarray(0, bodyLength);
      return finish(null, answer);
    }
    if (chunked) {
      const body = dechunk(buf);
      if (body !== null) {
        answer.rest = body;
        return finish(null, answer);
      }
    }
    if (buf.length > MAX_REFUSAL_BODY) {
      answer.rest = buf.subarray(0, MAX_REFUSAL_BODY);
      finish(null, answer);
    }
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
}

function parseHead(text: string): { status: number; headers: string[] } | null {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
  if (m === null) return null;
  const headers: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) return null;
    headers.push(lines[i].slice(0, colon).trim(), lines[i].slice(colon + 1).trim());
  }
  return { status: Number(m[1]), headers };
}

/** A whole chunked body decoded, or null while it is incomplete. */
function dechunk(buf: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) return Buffer.concat(parts);
    if (size === 0) return Buffer.concat(parts);
    if (buf.length < eol + 2 + size + 2) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function headerValue(headers: readonly string[], lower: string): string | null {
  for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() === lower) return headers[i + 1];
  return null;
}

/** The upstream's refusal headers for the client: hop-by-hop and framing ones dropped (the body is sent whole). */
function clientHeaders(headers: readonly string[]): string[] {
  const extra = connectionTokens(headerValue(headers, 'connection') ?? '');
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i].toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'content-length' || (extra !== null && extra.has(lower))) continue;
    out.push(headers[i], headers[i + 1]);
  }
  return out;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Errors } from '../core/errors.js';
import { answerId, REQUEST_ID_HEADER, REQUEST_ID_KEY } from '../observability/request-id.js';
import { channels } from '../observability/channels.js';
import type { StreamingResponse } from '../platform/listener.js';
import type { UpstreamHandler, UpstreamPool } from '../platform/upstream.js';
import type { RouteRuntime } from '../runtime/route-runtime.js';
import type { ServiceRuntime, Target } from '../runtime/service-runtime.js';
import { upstreamPath, upstreamQuery } from '../runtime/upstream-url.js';
import { reply } from './gateway-responses.js';
import { connectionTokens, HOP_BY_HOP } from './hop-headers.js';
import { meterOf, type RequestMeter } from './request-meter.js';

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

/** Methods that may be sent again after a connection failure (RFC 9110 §9.2.2), when there is no body. */
export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Errors where the request never reached the upstream application: safe to retry. */
export const CONNECT_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);
export const TIMEOUT_ERRORS: ReadonlySet<string> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', Errors.UPSTREAM_TIMEOUT.code]);

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Request headers for the upstream: the client's (`raw`, a flat [name, value, ...] list) minus
 * hop-by-hop, plus forwarding and X-DGate headers.
 */
export function upstreamHeaders(req: IncomingMessage, raw: readonly string[], route: RouteRuntime<UpstreamPool>, target: Target<UpstreamPool>, opts: ForwardOptions, bodyReplaced = false): string[] {
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

/**
 * Streams one request to the service's upstream and the answer back, without buffering bodies.
 * Implements undici's dispatch handler interface (the core callbacks, which undici calls without
 * an adapter in between) so that response headers arrive raw and are copied once; the Bun
 * upstream client (platform/bun/upstream.ts) calls the same callbacks.
 */
export class Forward implements UpstreamHandler {
  protected readonly req: IncomingMessage;
  protected readonly res: ServerResponse;
  protected readonly route: RouteRuntime<UpstreamPool>;
  readonly #service: ServiceRuntime<UpstreamPool>;
  protected readonly opts: ForwardOptions;
  readonly #path: string;
  readonly #query: string;
  readonly #params: Record<string, string> | null;
  /** retries are possible only for idempotent requests without a body (it was streamed) */
  readonly #retryable: boolean;
  protected target!: Target<UpstreamPool>;
  #attempt = 0;
  #abort: ((err?: Error) => void) | null = null;
  protected resume: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  protected done = false;
  /** the request id the answer carries (undefined: request ids are off) */
  protected readonly answerId: string | undefined;
  /** the upstream's own X-Request-Id is not passed on when the gateway answers with one */
  protected readonly dropHeader: string | null;
  readonly #meter: RequestMeter | null;
  /** when the current attempt was sent, while it is observed (0: not observed, or already reported) */
  #sentAt = 0;

  constructor(req: IncomingMessage, res: ServerResponse, route: RouteRuntime<UpstreamPool>, path: string, query: string, params: Record<string, string> | null, opts: ForwardOptions) {
    this.req = req;
    this.res = res;
    this.route = route;
    this.#service = route.service!;
    this.opts = opts;
    this.#path = path;
    this.#query = query;
    this.#params = params;
    this.#retryable = !hasBody(req) && IDEMPOTENT.has(req.method!);
    this.answerId = answerId(res);
    this.dropHeader = this.answerId === undefined ? null : REQUEST_ID_KEY;
    this.#meter = meterOf(req) ?? null;
    res.once('close', () => {
      if (!this.done) {
        this.done = true;
        this.#clearTimer();
        this.#abort?.(new Error('client closed the connection'));
      }
    });
  }

  // The parts of the upstream request; module routes override them with what module code set.
  protected pickTarget(attempt: number): Target<UpstreamPool> {
    void attempt;
    return this.#service.next();
  }
  protected method(): string {
    return this.req.method!;
  }
  protected query(): string {
    return this.#query;
  }
  protected headers(target: Target<UpstreamPool>): string[] {
    return upstreamHeaders(this.req, this.req.rawHeaders, this.route, target, this.opts);
  }
  protected body(attempt: number): IncomingMessage | Buffer | null {
    return attempt === 0 && hasBody(this.req) ? this.req : null;
  }

  start(): void {
    const service = this.#service;
    const target = this.pickTarget(this.#attempt);
    this.target = target;
    const rest = this.#params === null ? null : (this.#params['*'] ?? null);
    const path = upstreamPath(target, this.#path, this.route.stripPath, rest) + upstreamQuery(target, this.query(), service.disableQueryParams);
    if (service.requestTimeoutMs > 0) {
      const ms = service.requestTimeoutMs;
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#abort?.(Errors.UPSTREAM_TIMEOUT(ms));
      }, ms);
    }
    const method = this.method();
    const headers = this.headers(target);
    this.opts.onUpstreamRequest?.({ origin: target.origin, path, method, headers });
    if (this.#meter !== null || channels.upstream.hasSubscribers) this.#sentAt = performance.now();
    target.pool.dispatch({ path, method, headers, body: this.body(this.#attempt) }, this);
  }

  /**
   * The current attempt is over (answer complete or handed on, or failed): its time goes to the
   * request's meter and the upstream channel, once per attempt. `err` is null on success, and
   * for an exchange stopped by the gateway itself (client gone, answer replaced by a module).
   */
  protected upstreamEnded(err: Error | null): void {
    const sentAt = this.#sentAt;
    if (sentAt === 0) return;
    this.#sentAt = 0;
    const durationMs = performance.now() - sentAt;
    const m = this.#meter;
    if (m !== null) {
      m.upstream = this.target.origin;
      m.upstreamMs += durationMs;
    }
    if (!channels.upstream.hasSubscribers) return;
    const code = err === null ? null : (err as { code?: string }).code || err.name || 'Error';
    channels.upstream.publish({ namespace: this.route.namespace, service: this.#service.name, upstream: this.target.origin, durationMs, error: code, retry: this.#attempt > 0 });
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  /** Stops the upstream exchange (e.g. module code failed while the answer was on its way). */
  protected abortUpstream(err: Error): void {
    this.#clearTimer();
    this.#abort?.(err);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.done) abort(new Error('client closed the connection'));
    else this.#abort = abort;
  }

  /** A passthrough answer goes to a listener that takes web streams as it is, body untouched. */
  onResponse(statusCode: number, upstream: Headers, body: ReadableStream<Uint8Array> | null, response?: Response): boolean {
    const res = this.res as unknown as Partial<StreamingResponse>;
    if (res.sendStream === undefined || statusCode < 200) return false;
    this.#clearTimer();
    this.done = true;
    this.upstreamEnded(null);
    // the upstream's answer is not used otherwise: its headers are edited in place
    const headers = upstream;
    const connection = headers.get('connection');
    const extraHop = connection === null ? null : connectionTokens(connection);
    for (const name of HOP_BY_HOP) headers.delete(name);
    if (extraHop !== null) for (const name of extraHop) headers.delete(name);
    const global = this.opts.globalHeaders;
    for (let i = 0; i < global.length; i += 2) headers.append(global[i], global[i + 1]);
    if (this.answerId !== undefined) headers.set(REQUEST_ID_HEADER, this.answerId);
    res.sendStream(statusCode, headers, body, response);
    return true;
  }

  /** The upstream's head arrived: the request timeout no longer applies; `resume` restarts a paused body. */
  protected headArrived(resume: () => void): void {
    this.#clearTimer();
    this.resume = resume;
  }

  onHeaders(statusCode: number, rawHeaders: ReadonlyArray<Buffer | string>, resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: wait for the final answer
    this.#clearTimer();
    this.resume = resume;
    return this.respond(statusCode, responseHeaders(rawHeaders, this.dropHeader));
  }

  /** Sends the upstream's status and headers (plus global headers) to the client; false pauses the upstream. */
  protected respond(statusCode: number, headers: string[]): boolean {
    const out: string[] = this.opts.globalHeaders.length === 0 ? headers : [...this.opts.globalHeaders, ...headers];
    if (this.answerId !== undefined) out.push(REQUEST_ID_HEADER, this.answerId);
    this.res.writeHead(statusCode, out);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resume!);
    return false;
  }

  onComplete(trailers?: unknown): void {
    this.upstreamEnded(null);
    this.done = true;
    if (trailers != null && this.req.httpVersionMajor === 2) sendTrailers(this.res, trailers);
    this.res.end();
  }

  onError(err: Error): void {
    this.#clearTimer();
    this.#abort = null;
    this.upstreamEnded(this.done ? null : err);
    if (this.done) return;
    const res = this.res;
    // answered already (the listener refused the request body: 413, 408): the upstream's failure follows from that
    if (res.writableEnded) {
      this.done = true;
      return;
    }
    const code = (err as { code?: string }).code ?? '';
    if (!res.headersSent && this.#retryable && CONNECT_ERRORS.has(code) && this.#attempt < this.#service.retries) {
      this.#attempt++;
      const wait = this.#service.retryTimeoutMs;
      if (wait > 0) setTimeout(() => this.done || this.start(), wait);
      else this.start();
      return;
    }
    this.done = true;
    this.opts.onUpstreamError(err, this.route, this.target);
    this.fail(err, TIMEOUT_ERRORS.has(code));
  }

  /** The upstream exchange failed for good: answer 502/504 (module routes may hand it to errorHandler). */
  protected fail(err: Error, timedOut: boolean): void {
    void err;
    const res = this.res;
    if (res.headersSent) res.destroy();
    else if (timedOut) reply.gatewayTimeout(res);
    else reply.badGateway(res);
  }
}

/**
 * The upstream's trailers (a flat [name, value, ...] list, bytes from undici or strings) to an
 * HTTP/2 client, after the body: gRPC's status travels there.
 */
function sendTrailers(res: ServerResponse, trailers: unknown): void {
  if (!Array.isArray(trailers) || trailers.length === 0) return;
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < trailers.length; i += 2) {
    const name = latin1(trailers[i] as Buffer | string).toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    const value = latin1(trailers[i + 1] as Buffer | string);
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  res.addTrailers(out);
}

/** A header name or value as the client received it (undici hands out bytes, fetch strings). */
function latin1(v: Buffer | string): string {
  return typeof v === 'string' ? v : v.toString('latin1');
}

/** A fetch Headers as a flat [name, value, ...] list (each Set-Cookie on its own). */
export function headerList(h: Headers): string[] {
  const out: string[] = [];
  h.forEach((value, name) => {
    if (name !== 'set-cookie') out.push(name, value);
  });
  for (const cookie of h.getSetCookie()) out.push('set-cookie', cookie);
  return out;
}

/** A flat [name, value, ...] list as a fetch Headers. */
export function headersOf(list: readonly string[]): Headers {
  const h = new Headers();
  for (let i = 0; i < list.length; i += 2) h.append(list[i], list[i + 1]);
  return h;
}

/** The upstream's response headers as strings, minus hop-by-hop ones (and `drop`, a lowercase name). */
export function responseHeaders(rawHeaders: ReadonlyArray<Buffer | string>, drop: string | null = null): string[] {
  const out: string[] = [];
  let extraHop: Set<string> | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = latin1(rawHeaders[i]);
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') extraHop = connectionTokens(latin1(rawHeaders[i + 1]));
      continue;
    }
    if (lower === drop) continue;
    out.push(name, latin1(rawHeaders[i + 1]));
  }
  if (extraHop !== null) {
    for (let i = out.length - 2; i >= 0; i -= 2) if (extraHop.has(out[i].toLowerCase())) out.splice(i, 2);
  }
  return out;
}

export function forward(req: IncomingMessage, res: ServerResponse, route: RouteRuntime<UpstreamPool>, path: string, query: string, params: Record<string, string> | null, opts: ForwardOptions): void {
  new Forward(req, res, route, path, query, params, opts).start();
}

/** Whether the client's connection is TLS (node:https's sockets and the Bun TLS listener's say so). */
export function overTls(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
}

import type { OutgoingHttpHeaders } from 'node:http';
import { Errors } from '../../core/errors.js';
import type { ProxyRequest, ProxyResponse } from '../exchange.js';
import type { FetchClient, FetchHandler, HttpListener, ListenerOptions, RequestHandler, StreamingResponse, UpgradeOptions, WebSocketUpgrade } from '../listener.js';
import { guardHead, rawRefusal, refuse, type OnRefusal } from '../listener-limits.js';
import { BunTunnels, type BunTunnel } from './websocket.js';

/** The parts of Bun.serve this listener uses. */
export interface BunServer {
  readonly port: number;
  requestIP(req: Request): { address: string } | null;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
  upgrade(req: Request, opts: { headers: Headers; data: BunTunnel }): boolean;
  /** the idle limit of the connection `req` came on, seconds (0 = none) */
  timeout(req: Request, seconds: number): void;
  readonly pendingRequests: number;
}
interface BunGlobal {
  serve(opts: {
    hostname: string;
    port: number;
    reusePort: boolean;
    idleTimeout: number;
    maxRequestBodySize: number;
    fetch(req: Request, server: BunServer): Response | Promise<Response>;
    error(err: Error): Response;
    websocket?: ReturnType<BunTunnels['handlers']>;
  }): BunServer;
}

/**
 * `Bun.serve`: Bun's HTTP parser refuses malformed requests (400), oversized heads (431) and
 * ambiguous framing before any handler runs. Each request is handed to the shared pipeline as
 * a ProxyRequest and a ProxyResponse (../exchange.ts); the answer becomes a fetch `Response`,
 * built once the head and the first bytes are known, or given the upstream's body stream as it
 * is (sendStream).
 * Bun.serve does not expose connections, so `opts.connections` is not told of them here.
 */
export function createListener(opts: ListenerOptions, handler: RequestHandler, upgrade?: UpgradeOptions): HttpListener {
  let server: BunServer | null = null;
  const tunnels = upgrade === undefined ? null : new BunTunnels(upgrade);
  const serving = servingOf(opts, handler);
  const idleSeconds = serving.idleSeconds;
  return {
    listen: async () => {
      const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
      server = bun.serve({
        hostname: opts.host,
        port: opts.port,
        reusePort: opts.reusePort,
        // the keep-alive idle limit; lifted while a request is in flight (a slow upstream, a quiet stream) and set again as its answer completes
        idleTimeout: idleSeconds,
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        ...(tunnels === null ? {} : { websocket: tunnels.handlers() }),
        fetch: (request, srv) => (tunnels !== null && isWebSocket(request) ? serveUpgrade(request, srv, tunnels, upgrade!, serving, false) : dispatch(request, srv, serving, false)),
        error: () => new Response('Internal Server Error\n', { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }),
      });
      return server.port;
    },
    close: async () => {
      const s = server;
      server = null;
      await Promise.all([s?.stop(false), tunnels?.close()]);
    },
  };
}

const WEBSOCKET_TOKEN = /(^|,)\s*websocket\s*(,|$)/i;

/** A GET whose Upgrade header names websocket; most requests have no Upgrade header and pay one lookup. */
export function isWebSocket(request: Request): boolean {
  if (request.method !== 'GET') return false;
  const upgrade = request.headers.get('upgrade');
  if (upgrade === null) return false;
  return upgrade.length === 9 && upgrade.toLowerCase() === 'websocket' ? true : WEBSOCKET_TOKEN.test(upgrade);
}

/** Upstream 101 headers Bun's own handshake answer must not repeat (it writes those itself). */
const HANDSHAKE_HEADERS = new Set(['upgrade', 'connection', 'sec-websocket-accept', 'sec-websocket-extensions', 'content-length', 'transfer-encoding', 'keep-alive']);

/**
 * A WebSocket upgrade request: through the proxy's upgrade handler like any request (a refusal
 * is an ordinary Response); once accepted, Bun answers 101 with the upstream's headers and the
 * tunnel relays messages (bun/websocket.ts).
 */
export function serveUpgrade(request: Request, srv: BunServer, tunnels: BunTunnels, upgrade: UpgradeOptions, serving: BunServing, encrypted: boolean): Promise<Response> {
  return new Promise<Response>((resolve) => {
    const res = new BunResponse(resolve, null);
    const req = new BunRequest(request, targetOf(request.url), srv, res, encrypted, serving.limits.requestTimeoutMs, serving.onRefusal);
    const ws: WebSocketUpgrade = {
      relay: 'messages',
      accept: (headers, upstream, head) => {
        if (tunnels.closing || res.destroyed || res.headersSent) {
          upstream.destroy();
          if (!res.headersSent) res.destroy();
          return;
        }
        const out = new Headers();
        for (let i = 0; i < headers.length; i += 2) if (!HANDSHAKE_HEADERS.has(headers[i].toLowerCase())) out.append(headers[i], headers[i + 1]);
        // Bun would pick the client's first subprotocol when the answer names none: the upstream chose none
        if (!out.has('sec-websocket-protocol')) request.headers.delete('sec-websocket-protocol');
        const tunnel = tunnels.tunnel(upstream, head);
        if (srv.upgrade(request, { headers: out, data: tunnel })) {
          res.upgraded();
          return;
        }
        upstream.destroy();
        res.writeHead(400, ['Content-Type', 'text/plain; charset=utf-8']);
        res.end('Bad Request\n');
      },
    };
    upgrade.handler(req, res, ws);
  });
}

/** What every request of one listener is served with: its limits and the guarded handler. */
export interface BunServing {
  readonly limits: ListenerOptions['limits'];
  readonly onRefusal: OnRefusal;
  /** the keep-alive idle limit, seconds (0 = none) */
  readonly idleSeconds: number;
  /** Bun.serve has no connection count: the cap applies to requests in flight */
  readonly maxInFlight: number;
  readonly handler: RequestHandler;
  /** tried before `handler` (see FetchHandler) */
  readonly direct: FetchHandler | null;
}

export function servingOf(opts: ListenerOptions, handler: RequestHandler): BunServing {
  const limits = opts.limits;
  return {
    limits,
    onRefusal: opts.onRefusal,
    idleSeconds: Math.ceil(limits.idleTimeoutMs / 1000),
    maxInFlight: limits.maxConnections,
    // Bun's parser has a fixed head limit of its own (16 KiB unless --max-http-header-size): smaller limits are checked here
    handler: guardHead(limits, opts.onRefusal, handler, { headSize: true, repeatedContentLength: true }),
    direct: opts.direct ?? null,
  };
}

/** The request target (path and query) of a fetch Request's absolute URL. */
function targetOf(url: string): string {
  const slash = url.indexOf('/', url.indexOf('//') + 2);
  return slash < 0 ? '/' : url.slice(slash);
}

const CLOSE = /(^|,)\s*close\s*(,|$)/i;

/**
 * The client of a request the direct handler serves; its address is looked up when read. Its
 * answer gets `Connection: close` when the client asked for it (Bun closes such a connection
 * without saying so), and the connection's idle limit is set again once the answer completes
 * (a body of known length, or none: now; a streamed one: after its end).
 */
class DirectClient implements FetchClient {
  readonly encrypted: boolean;
  readonly #request: Request;
  readonly #server: BunServer;
  readonly #idleSeconds: number;
  #address: string | null = null;

  constructor(request: Request, server: BunServer, encrypted: boolean, idleSeconds: number) {
    this.#request = request;
    this.#server = server;
    this.encrypted = encrypted;
    this.#idleSeconds = idleSeconds;
  }

  get remoteAddress(): string {
    return (this.#address ??= this.#server.requestIP(this.#request)?.address ?? '');
  }

  finish(response: Response, connection: string | undefined, length?: string | null): Response {
    if (connection !== undefined && CLOSE.test(connection)) response.headers.set('Connection', 'close');
    if (this.#idleSeconds === 0) return response;
    // the body is looked at only without a length: a fetch Response's body untouched is sent by Bun without a JS stream
    if ((length === undefined ? response.headers.has('content-length') : length !== null) || response.body === null) {
      this.#settle();
      return response;
    }
    const body = response.body;
    const flush = () => this.#settle();
    return new Response(body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush })), { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  #settle(): void {
    try {
      this.#server.timeout(this.#request, this.#idleSeconds);
    } catch {
      // the connection is gone
    }
  }
}

/** Hands a request to the shared handler; `encrypted` says whether it came over TLS. */
export function dispatch(request: Request, srv: BunServer, serving: BunServing, encrypted: boolean): Response | Promise<Response> {
  if (serving.maxInFlight > 0 && srv.pendingRequests > serving.maxInFlight) {
    serving.onRefusal('connection_limit');
    return refusalResponse(503);
  }
  const idleSeconds = serving.idleSeconds;
  const target = targetOf(request.url);
  const direct = serving.direct;
  if (direct !== null) {
    const answer = direct(request, target, new DirectClient(request, srv, encrypted, idleSeconds));
    if (answer !== null) {
      if (idleSeconds > 0) srv.timeout(request, 0);
      return answer;
    }
  }
  let settle: (() => void) | null = null;
  if (idleSeconds > 0) {
    srv.timeout(request, 0);
    settle = () => srv.timeout(request, idleSeconds);
  }
  return new Promise<Response>((resolve) => {
    const res = new BunResponse(resolve, settle);
    const req = new BunRequest(request, target, srv, res, encrypted, serving.limits.requestTimeoutMs, serving.onRefusal);
    serving.handler(req, res);
  });
}

/** A fetch Request as a ProxyRequest. */
class BunRequest implements ProxyRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string> = {};
  readonly rawHeaders: string[] = [];
  readonly httpVersion = '1.1';
  readonly socket: { readonly remoteAddress: string; readonly encrypted: boolean; destroy: () => void };
  destroyed = false;
  readonly #body: ReadableStream<Uint8Array> | null;
  /** set by limitBody */
  bodyLimit: { max: number; onExceed: () => void } | null = null;

  /** Caps the body as it streams (platform/listener.ts limitRequestBody). */
  limitBody(max: number, onExceed: () => void): void {
    this.bodyLimit = { max, onExceed };
  }
  /** the whole-request deadline (proxy.read_timeout), while the body is being received */
  #deadline: ReturnType<typeof setTimeout> | null = null;
  #late = false;
  readonly #timeoutMs: number;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;

  constructor(request: Request, target: string, server: BunServer, res: BunResponse, encrypted: boolean, requestTimeoutMs: number, onRefusal: OnRefusal) {
    this.method = request.method;
    this.url = target;
    request.headers.forEach((value, name) => {
      this.headers[name] = value;
      this.rawHeaders.push(name, value);
    });
    // Bun closes such a connection after the answer without saying so; clients must know (RFC 9112 §9.6)
    const connection = this.headers['connection'];
    if (connection !== undefined && CLOSE.test(connection)) res.closing = true;
    this.#body = request.body;
    let address: string | null = null;
    this.socket = {
      encrypted,
      // looked up when asked for (forwarding headers, ctx): most of a request's cost is not this
      get remoteAddress() {
        return (address ??= server.requestIP(request)?.address ?? '');
      },
      destroy: () => {
        this.destroyed = true;
        res.destroy();
      },
    };
    request.signal.addEventListener('abort', () => {
      this.destroyed = true;
      res.clientGone();
    });
    this.#timeoutMs = requestTimeoutMs;
    if (this.#body !== null && requestTimeoutMs > 0) {
      this.#deadline = setTimeout(() => {
        this.#deadline = null;
        this.#late = true;
        onRefusal('request_timeout');
        void this.#reader?.cancel().catch(() => undefined);
        refuse(res, 408);
      }, requestTimeoutMs);
      res.once('close', () => this.#clearDeadline());
    }
  }

  #clearDeadline(): void {
    if (this.#deadline !== null) {
      clearTimeout(this.#deadline);
      this.#deadline = null;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    if (this.#body === null) return;
    const reader = this.#body.getReader();
    this.#reader = reader;
    const limit = this.bodyLimit;
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.#late) throw Errors.REQUEST_TIMEOUT(this.#timeoutMs);
        if (done) return;
        if (limit !== null) {
          size += value.byteLength;
          if (size > limit.max) {
            limit.onExceed();
            void reader.cancel().catch(() => undefined);
            throw Errors.BODY_TOO_LARGE(limit.max);
          }
        }
        yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
    } finally {
      this.#clearDeadline();
    }
  }
}


function refusalResponse(status: number): Response {
  const raw = rawRefusal(status);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return new Response(body, { status, headers: { Connection: 'close', 'Content-Type': 'text/plain; charset=utf-8' } });
}

const HIGH_WATER_MARK = 64 * 1024;

type Listener = () => void;

/** A ProxyResponse that becomes a fetch Response, built once the head and first bytes are known (or given a body stream as it is). */
class BunResponse implements ProxyResponse, StreamingResponse {
  headersSent = false;
  /** body bytes sent (a stream handed over: its Content-Length, 0 without) */
  bodyBytes = 0;
  writableEnded = false;
  destroyed = false;
  /** the client asked to close the connection after this answer */
  closing = false;
  #status = 200;
  #headers: Headers | null = null;
  #resolve: ((r: Response) => void) | null;
  /** called once as the answer completes (the connection's idle limit applies again) */
  #settle: (() => void) | null;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  /** chunks written before the stream started (see write) */
  #pending: Uint8Array[] | null = null;

  /** 'close' and 'drain' listeners (the only events the pipeline waits for), each called once */
  #onClose: Listener[] | null = null;
  #onDrain: Listener[] | null = null;

  constructor(resolve: (r: Response) => void, settle: (() => void) | null) {
    this.#resolve = resolve;
    this.#settle = settle;
  }

  #settled(): void {
    const settle = this.#settle;
    if (settle === null) return;
    this.#settle = null;
    try {
      settle();
    } catch {
      // the connection is gone
    }
  }

  once(event: 'close' | 'drain', fn: Listener): this {
    if (event === 'close') (this.#onClose ??= []).push(fn);
    else (this.#onDrain ??= []).push(fn);
    return this;
  }

  emit(event: 'close' | 'drain'): boolean {
    const list = event === 'close' ? this.#onClose : this.#onDrain;
    if (list === null) return false;
    if (event === 'close') this.#onClose = null;
    else this.#onDrain = null;
    for (const fn of list) fn();
    return true;
  }

  /** the status sent (200 until a head is written) */
  get statusCode(): number {
    return this.#status;
  }

  writeHead(status: number, headers?: readonly string[] | OutgoingHttpHeaders): this {
    this.#status = status;
    this.#headers = toHeaders(headers);
    this.headersSent = true;
    return this;
  }

  #respond(body: ReadableStream<Uint8Array> | Uint8Array | string | null, original?: Response): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    const headers = this.#headers ?? new Headers();
    if (this.closing) headers.set('Connection', 'close');
    if (!(body instanceof ReadableStream)) this.#settled();
    // an upstream answer whose status, headers and body are its own goes out as it is (no new Response)
    if (original !== undefined && original.status === this.#status && original.headers === headers && original.body === body) resolve?.(original);
    else resolve?.(new Response(body as BodyInit | null, { status: this.#status, headers }));
  }

  /** starts the streamed answer (the head goes out with the first chunk) */
  #stream(): ReadableStreamDefaultController<Uint8Array> {
    if (this.#controller !== null) return this.#controller;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c;
        },
        pull: () => {
          this.emit('drain');
        },
        cancel: () => this.clientGone(),
      },
      { highWaterMark: HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
    );
    this.#controller = controller;
    this.#respond(stream);
    return controller;
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (!this.headersSent) this.writeHead(200);
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.bodyBytes += bytes.byteLength;
    if (this.#controller === null) {
      // The first chunks wait for the end of the current job: an answer ended right after them
      // (a requestHandler's ctx.response().json()) goes out whole with its length, without a stream.
      if (this.#pending === null) {
        this.#pending = [bytes];
        queueMicrotask(() => this.#flushPending());
      } else this.#pending.push(bytes);
      return true;
    }
    const c = this.#controller;
    c.enqueue(bytes);
    return (c.desiredSize ?? 0) > 0;
  }

  /** the answer goes on past the chunks written so far: they start the stream */
  #flushPending(): void {
    const pending = this.#pending;
    if (pending === null || this.writableEnded || this.destroyed) return;
    this.#pending = null;
    const c = this.#stream();
    for (const bytes of pending) c.enqueue(bytes);
  }

  end(chunk?: Uint8Array | string): this {
    if (this.writableEnded || this.destroyed) return this;
    if (!this.headersSent) this.writeHead(200);
    this.writableEnded = true;
    if (chunk !== undefined) this.bodyBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (this.#controller === null) {
      const pending = this.#pending;
      this.#pending = null;
      if (pending !== null) {
        if (chunk !== undefined && chunk.length > 0) pending.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        this.#respond(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
      } else this.#respond(chunk === undefined || chunk.length === 0 ? null : chunk);
    } else {
      if (chunk !== undefined && chunk.length > 0) this.#controller.enqueue(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      this.#settled();
      this.#controller.close();
    }
    if (this.#onClose !== null) queueMicrotask(() => this.emit('close'));
    return this;
  }

  sendStream(status: number, headers: Headers, body: ReadableStream<Uint8Array> | null, response?: Response): void {
    this.bodyBytes += Number(headers.get('content-length') ?? 0) || 0;
    this.#status = status;
    this.#headers = headers;
    this.headersSent = true;
    this.writableEnded = true;
    // a body of known length (or none) completes without long pauses; a streamed one (SSE) may pause: the idle limit applies after it
    if (body === null || headers.has('content-length')) this.#settled();
    else if (this.#settle !== null) body = body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: () => this.#settled() }));
    this.#respond(body, response);
    if (this.#onClose !== null) queueMicrotask(() => this.emit('close'));
  }

  /** the request became a WebSocket (Bun answered the handshake): fetch resolves with no Response */
  upgraded(): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    this.headersSent = true;
    this.writableEnded = true;
    resolve?.(undefined as unknown as Response);
  }

  /** ends the exchange abruptly: the client sees the connection close */
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.#pending = null;
    if (this.#controller !== null) this.#controller.error(new Error('response destroyed'));
    else {
      this.headersSent = true;
      this.#respond(new ReadableStream({ start: (c) => c.error(new Error('response destroyed')) }));
    }
    this.emit('close');
    return this;
  }

  /** the client went away before the answer was complete */
  clientGone(): void {
    if (this.writableEnded || this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

function toHeaders(headers: readonly string[] | OutgoingHttpHeaders | undefined): Headers {
  const h = new Headers();
  if (headers === undefined) return h;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) h.append(headers[i], headers[i + 1]);
    return h;
  }
  for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) h.append(name, v);
    else h.append(name, String(value));
  }
  return h;
}

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { HttpListener, ListenerOptions, RequestHandler, StreamingResponse } from '../listener.js';

/** The parts of Bun.serve this listener uses. */
interface BunServer {
  readonly port: number;
  requestIP(req: Request): { address: string } | null;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
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
  }): BunServer;
}

/**
 * `Bun.serve`: Bun's HTTP parser refuses malformed requests (400), oversized heads (431) and
 * ambiguous framing before any handler runs. Each request is handed to the shared pipeline as
 * node:http-shaped objects; the answer becomes a fetch `Response`, built once the head and the
 * first bytes are known, or given the upstream's body stream as it is (sendStream).
 * Bun.serve does not expose connections, so `opts.connections` is not told of them here.
 */
export function createListener(opts: ListenerOptions, handler: RequestHandler): HttpListener {
  let server: BunServer | null = null;
  return {
    listen: async () => {
      const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
      server = bun.serve({
        hostname: opts.host,
        port: opts.port,
        reusePort: opts.reusePort,
        // no idle limit of Bun's own: a request may wait for a slow upstream (services set requestTimeout)
        idleTimeout: 0,
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        fetch(request, srv) {
          return new Promise<Response>((resolve) => {
            const res = new BunResponse(resolve);
            const req = new BunRequest(request, srv, res);
            handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
          });
        },
        error: () => new Response('Internal Server Error\n', { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }),
      });
      return server.port;
    },
    close: async () => {
      const s = server;
      server = null;
      await s?.stop(false);
    },
  };
}

/** A fetch Request as node:http's IncomingMessage, for the members the pipeline and ctx read. */
class BunRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string> = {};
  readonly rawHeaders: string[] = [];
  readonly httpVersion = '1.1';
  readonly socket: { readonly remoteAddress: string; destroy: () => void };
  destroyed = false;
  readonly #body: ReadableStream<Uint8Array> | null;

  constructor(request: Request, server: BunServer, res: BunResponse) {
    this.method = request.method;
    const u = request.url;
    const slash = u.indexOf('/', u.indexOf('//') + 2);
    this.url = slash < 0 ? '/' : u.slice(slash);
    request.headers.forEach((value, name) => {
      this.headers[name] = value;
      this.rawHeaders.push(name, value);
    });
    // Bun closes such a connection after the answer without saying so; clients must know (RFC 9112 §9.6)
    const connection = this.headers['connection'];
    if (connection !== undefined && /(^|,)\s*close\s*(,|$)/i.test(connection)) res.closing = true;
    this.#body = request.body;
    let address: string | null = null;
    this.socket = {
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
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    if (this.#body === null) return;
    for await (const chunk of this.#body) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

const HIGH_WATER_MARK = 64 * 1024;

type Listener = () => void;

/** node:http's ServerResponse over a fetch Response, for the members the pipeline and ctx use. */
class BunResponse implements StreamingResponse {
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
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;

  /** 'close' and 'drain' listeners (the only events the pipeline waits for), each called once */
  #onClose: Listener[] | null = null;
  #onDrain: Listener[] | null = null;

  constructor(resolve: (r: Response) => void) {
    this.#resolve = resolve;
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

  #respond(body: ReadableStream<Uint8Array> | Uint8Array | string | null): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    const headers = this.#headers ?? new Headers();
    if (this.closing) headers.set('Connection', 'close');
    resolve?.(new Response(body as BodyInit | null, { status: this.#status, headers }));
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
    const c = this.#stream();
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.bodyBytes += bytes.byteLength;
    c.enqueue(bytes);
    return (c.desiredSize ?? 0) > 0;
  }

  end(chunk?: Uint8Array | string): this {
    if (this.writableEnded || this.destroyed) return this;
    if (!this.headersSent) this.writeHead(200);
    this.writableEnded = true;
    if (chunk !== undefined) this.bodyBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (this.#controller === null) {
      this.#respond(chunk === undefined || chunk.length === 0 ? null : chunk);
    } else {
      if (chunk !== undefined && chunk.length > 0) this.#controller.enqueue(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      this.#controller.close();
    }
    if (this.#onClose !== null) queueMicrotask(() => this.emit('close'));
    return this;
  }

  sendStream(status: number, headers: Headers, body: ReadableStream<Uint8Array> | null): void {
    this.bodyBytes += Number(headers.get('content-length') ?? 0) || 0;
    this.#status = status;
    this.#headers = headers;
    this.headersSent = true;
    this.writableEnded = true;
    this.#respond(body);
    if (this.#onClose !== null) queueMicrotask(() => this.emit('close'));
  }

  /** ends the exchange abruptly: the client sees the connection close */
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
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

/**
 * HTTP/2 to an upstream (services with `http2Only`): one node:http2 client session per origin,
 * shared by all requests (h2c for http:// origins, h2 over TLS with ALPN for https://), on Node
 * and on Bun. Speaks the forwarder's dispatch-handler protocol, trailers included (gRPC status).
 */
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { UpstreamHandler, UpstreamPool, UpstreamPoolOptions, UpstreamRequest } from '../upstream.js';
import { CONNECTION_SPECIFIC, SINGLE_VALUE } from './exchange.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;

class UpstreamError extends Error {
  readonly code: string;
  constructor(message: string, code: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
  }
}

/** The forwarder's flat [name, value, ...] request headers as HTTP/2 request headers. */
export function requestHeaders(request: UpstreamRequest): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': request.method, ':path': request.path };
  const h = request.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i].toLowerCase();
    const value = h[i + 1];
    if (name === 'host') {
      out[':authority'] = value;
      continue;
    }
    if (CONNECTION_SPECIFIC.has(name) || name.charCodeAt(0) === 58) continue;
    if (name === 'te' && value.trim().toLowerCase() !== 'trailers') continue;
    const prev = out[name];
    if (prev === undefined || SINGLE_VALUE.has(name)) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = name === 'cookie' ? `${String(prev)}; ${value}` : [String(prev), value];
  }
  return out;
}

/** HTTP/2 response headers or trailers as a flat [name, value, ...] list, pseudo-headers left out. */
function flat(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name of Object.keys(headers)) {
    if (name.charCodeAt(0) === 58) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

class Http2Pool implements UpstreamPool {
  readonly http2 = true;
  readonly #opts: UpstreamPoolOptions;
  #session: ClientHttp2Session | null = null;
  /** why the current session failed (a connect error, reported to its streams) */
  readonly #failures = new WeakMap<ClientHttp2Session, Error>();
  readonly #sessions = new Set<ClientHttp2Session>();
  #closed = false;

  constructor(opts: UpstreamPoolOptions) {
    this.#opts = opts;
  }

  #connect(): ClientHttp2Session {
    const s = this.#session;
    if (s !== null && !s.closed && !s.destroyed) return s;
    const o = this.#opts;
    const session = http2.connect(o.origin, {
      rejectUnauthorized: o.rejectUnauthorized,
      ...(o.lookup !== null ? { lookup: o.lookup } : {}),
    } as http2.SecureClientSessionOptions);
    this.#session = session;
    this.#sessions.add(session);
    const timer = setTimeout(() => {
      const err = new UpstreamError(`could not connect to ${o.origin} within ${o.connectTimeoutMs} ms`, 'UND_ERR_CONNECT_TIMEOUT');
      this.#failures.set(session, err);
      session.destroy(err);
    }, o.connectTimeoutMs);
    session.once('connect', () => clearTimeout(timer));
    session.on('error', (err: Error) => {
      if (!this.#failures.has(session)) this.#failures.set(session, err);
    });
    const forget = () => {
      clearTimeout(timer);
      if (this.#session === session) this.#session = null;
    };
    session.once('goaway', forget);
    session.once('close', () => {
      forget();
      this.#sessions.delete(session);
    });
    if (o.keepAliveTimeoutMs > 0) session.setTimeout(o.keepAliveTimeoutMs, () => session.close());
    // an idle session does not keep the process alive
    session.unref();
    return session;
  }

  readonly #streams = new WeakMap<ClientHttp2Session, number>();

  /** a session with streams in flight keeps the process alive; an idle one does not */
  #hold(session: ClientHttp2Session, delta: number): void {
    const n = (this.#streams.get(session) ?? 0) + delta;
    this.#streams.set(session, n);
    if (session.destroyed) return;
    if (n === 1 && delta === 1) session.ref();
    else if (n === 0) session.unref();
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean {
    let stream: ClientHttp2Stream | null = null;
    let finished = false;
    const fail = (err: Error) => {
      if (finished) return;
      finished = true;
      handler.onError(err);
    };
    handler.onConnect((err) => {
      if (finished) return;
      if (stream !== null && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
      fail(err ?? new Error('upstream request aborted'));
    });
    if (finished) return true;
    if (this.#opts.refuse !== null || this.#closed) {
      fail(this.#opts.refuse ?? new UpstreamError('upstream pool closed', 'UND_ERR_DESTROYED'));
      return true;
    }
    let headers: OutgoingHttpHeaders;
    let session: ClientHttp2Session;
    try {
      headers = requestHeaders(request);
      session = this.#connect();
      stream = session.request(headers, { endStream: request.body === null });
    } catch (err) {
      // a header HTTP/2 refuses (set by module code), or a session that cannot take streams
      fail(new UpstreamError(`invalid request: ${(err as Error).message}`, 'UND_ERR_INVALID_ARG', err));
      return true;
    }
    const s = stream;
    this.#hold(session, 1);
    let trailers: string[] | null = null;
    s.on('response', (h: IncomingHttpHeaders) => {
      if (finished) return;
      const status = Number(h[':status']);
      const go = handler.onHeaders(status, flat(h), () => s.resume());
      if (!go) s.pause();
      s.on('data', (chunk: Buffer) => {
        if (!finished && !handler.onData(chunk)) s.pause();
      });
    });
    s.on('trailers', (t: IncomingHttpHeaders) => {
      trailers = flat(t);
    });
    s.on('end', () => {
      if (finished) return;
      finished = true;
      handler.onComplete(trailers);
    });
    s.on('error', (err: Error) => fail(this.#failures.get(session) ?? toUpstreamError(err, s)));
    s.on('close', () => {
      this.#hold(session, -1);
      if (finished) return;
      const failure = this.#failures.get(session);
      if (failure !== undefined) return fail(failure);
      const code = s.rstCode ?? NGHTTP2_NO_ERROR;
      // closed before its end without an error event: the upstream reset it (or went away)
      fail(new UpstreamError(`upstream closed the stream (HTTP/2 error code ${code})`, code === NGHTTP2_REFUSED_STREAM ? 'ECONNRESET' : 'UND_ERR_SOCKET'));
    });
    const body = request.body;
    if (body !== null) {
      if (Buffer.isBuffer(body)) s.end(body);
      else void pump(body, s).catch(() => {
        if (!s.destroyed) s.close(NGHTTP2_CANCEL);
      });
    }
    return true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#sessions].map((s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.close(() => resolve())))));
  }

  async destroy(): Promise<void> {
    this.#closed = true;
    for (const s of this.#sessions) s.destroy();
    this.#sessions.clear();
  }
}

/** The client's body into the upstream stream, waiting while the stream's buffer is full. */
async function pump(body: AsyncIterable<Buffer>, s: ClientHttp2Stream): Promise<void> {
  for await (const chunk of body) {
    if (s.destroyed) return;
    if (!s.write(chunk)) await new Promise<void>((resolve) => {
      s.once('drain', resolve);
      s.once('close', resolve);
    });
  }
  if (!s.destroyed) s.end();
}

function toUpstreamError(err: Error, s: ClientHttp2Stream): Error {
  const code = (err as { code?: string }).code;
  if (code !== undefined && code !== 'ERR_HTTP2_STREAM_ERROR' && code !== 'ERR_HTTP2_STREAM_CANCEL') return err;
  return new UpstreamError(`upstream stream failed: ${err.message}`, s.rstCode === NGHTTP2_REFUSED_STREAM ? 'ECONNRESET' : 'UND_ERR_SOCKET', err);
}

export function createHttp2UpstreamPool(opts: UpstreamPoolOptions): UpstreamPool {
  return new Http2Pool(opts);
}

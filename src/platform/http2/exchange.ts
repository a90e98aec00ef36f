/**
 * One HTTP/2 stream as a ProxyRequest and a ProxyResponse (../exchange.ts), the members the
 * pipeline, the upstream exchange and the module `ctx` use (as the Bun listener does for fetch's
 * Request/Response).
 * `:authority` plays the role of Host; pseudo-headers are not headers.
 */
import { Errors } from '../../core/errors.js';
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { ProxyRequest, ProxyResponse } from '../exchange.js';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** Header fields that only make sense on one HTTP/1.1 connection: never sent in an HTTP/2 message (RFC 9113 §8.2.2). */
export const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * Fields HTTP/2 (node:http2) carries once per message: when a list has one twice (global headers
 * and the upstream's, say), the later value is kept.
 */
export const SINGLE_VALUE = new Set([
  'access-control-allow-credentials', 'access-control-max-age', 'access-control-request-method', 'age', 'authorization',
  'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type',
  'date', 'dnt', 'etag', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'range', 'referer', 'retry-after',
  'tk', 'upgrade-insecure-requests', 'user-agent', 'x-content-type-options',
]);

/** The name of a connection-specific field in a request's headers (te other than "trailers" included), or null. */
export function connectionSpecificField(headers: IncomingHttpHeaders): string | null {
  for (const name of CONNECTION_SPECIFIC) if (headers[name] !== undefined) return name;
  const te = headers['te'];
  if (te !== undefined && String(te).trim().toLowerCase() !== 'trailers') return 'te';
  return null;
}

/**
 * A request without a body to pass on: its HEADERS frame ended the stream, or it is a GET or HEAD
 * without a length (some clients end those with an empty DATA frame; its bytes are dropped).
 */
export function bodiless(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean {
  if (stream.endAfterHeaders) return true;
  if (headers['content-length'] !== undefined) return false;
  const method = headers[':method'];
  return method === 'GET' || method === 'HEAD';
}

/** A client's HTTP/2 request. */
export class H2Request implements ProxyRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined> = {};
  readonly rawHeaders: string[] = [];
  readonly httpVersion = '2.0';
  readonly httpVersionMajor = 2;
  readonly httpVersionMinor = 0;
  readonly socket: { readonly remoteAddress: string; readonly encrypted: boolean; destroy: () => void };
  readonly #stream: ServerHttp2Stream;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, res: H2Response) {
    this.#stream = stream;
    this.method = String(headers[':method']);
    this.url = String(headers[':path'] ?? '/');
    const authority = headers[':authority'] ?? headers['host'];
    if (authority !== undefined) {
      this.headers['host'] = String(authority);
      this.rawHeaders.push('host', String(authority));
    }
    for (const name of Object.keys(headers)) {
      if (name.charCodeAt(0) === 58 /* : */ || name === 'host') continue;
      const value = headers[name]!;
      this.headers[name] = value;
      if (Array.isArray(value)) for (const v of value) this.rawHeaders.push(name, v);
      else this.rawHeaders.push(name, value);
    }
    // A body follows the HEADERS frame without a declared length (gRPC): the pipeline sees it as
    // an HTTP/1.1 request of unknown length (the upstream request is built from rawHeaders).
    if (!bodiless(stream, headers)) this.headers['transfer-encoding'] = 'chunked';
    const socket = stream.session?.socket as { remoteAddress?: string; encrypted?: boolean } | undefined;
    this.socket = {
      remoteAddress: socket?.remoteAddress ?? '',
      encrypted: socket?.encrypted === true,
      // strict mode closes "the connection" of a request for no known host: on HTTP/2 that is this stream only
      destroy: () => res.reset(NGHTTP2_REFUSED_STREAM),
    };
  }

  get destroyed(): boolean {
    return this.#stream.destroyed;
  }

  #limit: { max: number; onExceed: () => void } | null = null;

  /** Caps the body as it streams (platform/listener.ts limitRequestBody): past `max` the reader fails. */
  limitBody(max: number, onExceed: () => void): void {
    this.#limit = { max, onExceed };
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const limit = this.#limit;
    if (limit === null) return this.#stream[Symbol.asyncIterator]();
    return this.#limited(limit);
  }

  async *#limited(limit: { max: number; onExceed: () => void }): AsyncGenerator<Buffer> {
    let size = 0;
    for await (const chunk of this.#stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit.max) {
        limit.onExceed();
        throw Errors.BODY_TOO_LARGE(limit.max);
      }
      yield chunk;
    }
  }
}

type Listener = () => void;

/** The answer on an HTTP/2 stream; trailers go out after the body (gRPC status). */
export class H2Response implements ProxyResponse {
  headersSent = false;
  writableEnded = false;
  /** the gateway reset the stream (not the client) */
  resetByGateway = false;
  readonly #stream: ServerHttp2Stream;
  #trailers: OutgoingHttpHeaders | null = null;
  /** the head, until the first body bytes or the end */
  #head: OutgoingHttpHeaders | null = null;
  #status = 200;

  constructor(stream: ServerHttp2Stream) {
    this.#stream = stream;
    stream.on('wantTrailers', () => {
      const t = this.#trailers ?? {};
      this.#trailers = null;
      try {
        stream.sendTrailers(t);
      } catch {
        // a trailer the peer cannot be sent (e.g. a pseudo-header): end without it
        this.reset(http2.constants.NGHTTP2_NO_ERROR);
      }
    });
    // a stream error (client reset, flow-control failure) ends it; 'close' follows
    stream.on('error', () => undefined);
  }

  get destroyed(): boolean {
    return this.#stream.destroyed;
  }

  /** the status sent (200 until a head is written) */
  get statusCode(): number {
    return this.#status;
  }

  once(event: 'close' | 'drain', fn: Listener): this {
    this.#stream.once(event, fn);
    return this;
  }

  /**
   * The head is sent with the first body bytes or at the end: an answer without a body goes out
   * as one HEADERS frame that ends the stream (gRPC's trailers-only answers need that).
   */
  writeHead(status: number, headers?: readonly string[] | OutgoingHttpHeaders): this {
    if (this.headersSent) return this;
    this.headersSent = true;
    this.#status = status;
    const out = toH2Headers(headers);
    out[':status'] = status;
    this.#head = out;
    return this;
  }

  /** sends the head now, if it is still held; false when the stream cannot take it */
  #flushHead(endStream: boolean): boolean {
    const head = this.#head;
    if (head === null) return !this.#stream.destroyed;
    this.#head = null;
    if (this.#stream.destroyed) return false;
    try {
      this.#stream.respond(head, endStream ? { endStream: true } : { waitForTrailers: true });
      return true;
    } catch {
      // a header value HTTP/2 cannot carry (module code): the stream fails instead of the process
      this.reset(NGHTTP2_INTERNAL_ERROR);
      return false;
    }
  }

  /** sets the trailers sent after the body (the last call wins) */
  addTrailers(trailers: OutgoingHttpHeaders): void {
    this.#trailers = trailers;
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.writableEnded || this.#stream.destroyed) return false;
    if (!this.headersSent) this.writeHead(200);
    if (!this.#flushHead(false)) return false;
    return this.#stream.write(chunk);
  }

  end(chunk?: Uint8Array | string): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) this.writeHead(200);
    this.writableEnded = true;
    const empty = chunk === undefined || chunk.length === 0;
    const headOnly = this.#head !== null && empty && this.#trailers === null;
    if (!this.#flushHead(headOnly) || headOnly) return this;
    if (!empty) this.#stream.end(chunk);
    else this.#stream.end();
    return this;
  }

  /** ends the exchange abruptly: the client sees RST_STREAM INTERNAL_ERROR */
  destroy(): this {
    this.reset(NGHTTP2_INTERNAL_ERROR);
    return this;
  }

  /** closes the stream with RST_STREAM `code` */
  reset(code: number): void {
    if (this.#stream.destroyed || this.#stream.closed) return;
    this.resetByGateway = true;
    this.#stream.close(code);
  }
}

/** A flat [name, value, ...] list or a headers object as HTTP/2 headers: lower-case names, connection-specific fields dropped. */
export function toH2Headers(headers: readonly string[] | OutgoingHttpHeaders | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (headers === undefined) return out;
  const add = (rawName: string, value: string | number) => {
    const name = rawName.toLowerCase();
    if (CONNECTION_SPECIFIC.has(name) || name === 'te' || name.charCodeAt(0) === 58) return;
    const prev = out[name];
    if (prev === undefined || SINGLE_VALUE.has(name)) out[name] = String(value);
    else if (Array.isArray(prev)) prev.push(String(value));
    else out[name] = [String(prev), String(value)];
  };
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) add(headers[i] as string, headers[i + 1] as string);
    return out;
  }
  for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) add(name, v);
    else add(name, value);
  }
  return out;
}

/**
 * The upstream HTTP client: keep-alive pools per upstream origin. undici's `Pool` on Node;
 * `fetch` on Bun (no automatic redirects or decompression, bodies streamed both ways). The
 * forwarder talks to either through undici's dispatch-handler protocol: callbacks for the
 * connection, the head, each body chunk (with back-pressure) and the end.
 */
import type { LookupFunction } from 'node:net';
import { isBun } from './runtime.js';

/** Receives one upstream exchange. */
export interface UpstreamHandler {
  /** called first; `abort` stops the exchange (onError follows with the given error) */
  onConnect(abort: (err?: Error) => void): void;
  /** the final status and headers, as a flat [name, value, ...] list; false pauses the body until `resume` */
  onHeaders(statusCode: number, rawHeaders: ReadonlyArray<Buffer | string>, resume: () => void): boolean;
  /** false pauses the body until `resume` */
  onData(chunk: Buffer): boolean;
  /**
   * Offered first by clients that receive the answer as a web stream (fetch): true takes the
   * whole answer (status, headers and the body stream, to be passed on as it is) and no other
   * callback follows. Optional; undici never calls it. `response` is the answer the three come
   * from, which a listener may send on as it is when status, headers and body are still its own.
   */
  onResponse?(statusCode: number, headers: Headers, body: ReadableStream<Uint8Array> | null, response?: Response): boolean;
  onComplete(trailers: unknown): void;
  onError(err: Error): void;
}

export interface UpstreamRequest {
  path: string;
  method: string;
  /** flat [name, value, ...] list */
  headers: string[];
  body: AsyncIterable<Buffer> | Buffer | null;
}

export interface UpstreamPool {
  /** speaks HTTP/2 to the upstream (services with http2Only) */
  readonly http2?: boolean;
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean;
  /**
   * Sends a request (`body`: a whole body, else none); resolves with the upstream's answer, its body unread.
   * Offered by pools over the fetch API (Bun's). Fails with the error codes dispatch's onError
   * gives (ECONNREFUSED, ECONNRESET, UND_ERR_HEADERS_TIMEOUT, ...), or with `signal`'s reason.
   * `headers` is read when called (the caller may change it afterwards).
   */
  send?(path: string, method: string, headers: Headers, signal: AbortSignal, body?: Buffer | null): Promise<Response>;
  /** closes once idle */
  close(): Promise<void>;
  /** closes now, failing what is in flight */
  destroy(): Promise<void>;
}

export interface UpstreamPoolOptions {
  origin: string;
  /** max connections; null = unlimited */
  connections: number | null;
  keepAlive: boolean;
  keepAliveTimeoutMs: number;
  /** time to wait for the response head; undefined = the client's default */
  headersTimeoutMs: number | undefined;
  connectTimeoutMs: number;
  rejectUnauthorized: boolean;
  /** TCP keep-alive idle time before the first probe, ms; 0 = the client's default */
  tcpKeepAliveMs: number;
  /** resolves host names (refusing some addresses); null = the system resolver */
  lookup: LookupFunction | null;
  /** every connection attempt fails with this error (an upstream that must not be reached); null = none */
  refuse: Error | null;
}

export type CreateUpstreamPool = (opts: UpstreamPoolOptions) => UpstreamPool;

export const createUpstreamPool: CreateUpstreamPool = isBun ? (await import('./bun/upstream.js')).createUpstreamPool : (await import('./node/upstream.js')).createUpstreamPool;

/** HTTP/2 (h2c or h2) sessions per origin, node:http2 on both runtimes. */
export const createHttp2UpstreamPool: CreateUpstreamPool = (await import('./http2/upstream.js')).createHttp2UpstreamPool;

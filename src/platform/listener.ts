/**
 * The proxy's HTTP listener: node:http on Node; `Bun.serve` on Bun. Either way the request
 * handler sees node:http's request and response objects (on Bun, thin adapters over the fetch
 * API's Request and a streamed Response with the same members the pipeline uses), so the
 * pipeline, the forwarder and the module `ctx` are shared.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isBun } from './runtime.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Hands an upstream answer's body to the client as it is, without reading it chunk by chunk.
 * Offered by listeners that can (Bun's); the body is a web ReadableStream.
 */
export interface StreamingResponse {
  /** `headers` is the client's to keep (the listener may use it as it is) */
  sendStream(status: number, headers: Headers, body: ReadableStream<Uint8Array> | null): void;
}

export interface ListenerOptions {
  host: string;
  port: number;
  /** several processes bind the same port (one per core); the kernel spreads connections */
  reusePort: boolean;
  /** cleartext HTTP/2 (prior knowledge) on the same port, under these limits; null = HTTP/1.1 only */
  h2c: Http2Limits | null;
}

/** Limits of a client's HTTP/2 connection (proxy.http2). */
export interface Http2Limits {
  maxConcurrentStreams: number;
  /** bytes of one request's header list */
  maxHeaderListSize: number;
  /** streams a client may reset within resetWindowMs before its connection is closed (GOAWAY) */
  resetLimit: number;
  resetWindowMs: number;
}

export interface HttpListener {
  /** resolves with the bound port */
  listen(): Promise<number>;
  /** stops accepting, lets requests in flight finish, then resolves */
  close(): Promise<void>;
}

export type CreateListener = (opts: ListenerOptions, handler: RequestHandler) => HttpListener;

const createHttp1Listener: CreateListener = isBun ? (await import('./bun/listener.js')).createListener : (await import('./node/listener.js')).createListener;
const { createH2cListener } = await import('./http2/h2c-listener.js');

/** HTTP/1.1 (the runtime's own listener), or HTTP/1.1 and h2c on one port (node:http and node:http2 behind a preface check). */
export const createListener: CreateListener = (opts, handler) => (opts.h2c === null ? createHttp1Listener(opts, handler) : createH2cListener(opts, opts.h2c, handler));

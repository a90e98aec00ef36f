/**
 * The proxy's HTTP listener: node:http on Node; `Bun.serve` on Bun. Either way the request
 * handler sees node:http's request and response objects (on Bun, thin adapters over the fetch
 * API's Request and a streamed Response with the same members the pipeline uses), so the
 * pipeline, the forwarder and the module `ctx` are shared.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ListenerLimits, OnRefusal } from './listener-limits.js';
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
  /** header, URL, timeout and connection limits (listener-limits.ts) */
  limits: ListenerLimits;
  /** called for every request or connection the listener refuses */
  onRefusal: OnRefusal;
}

export interface HttpListener {
  /** resolves with the bound port */
  listen(): Promise<number>;
  /** stops accepting, lets requests in flight finish, then resolves */
  close(): Promise<void>;
}

export type CreateListener = (opts: ListenerOptions, handler: RequestHandler) => HttpListener;

/**
 * Caps the body of `req` at `max` bytes as it streams in, whoever reads it: past the cap
 * `onExceed` is called once and the reader fails with DG_ERR_BODY_TOO_LARGE.
 */
export type LimitRequestBody = (req: IncomingMessage, max: number, onExceed: () => void) => void;

const platform = isBun ? await import('./bun/listener.js') : await import('./node/listener.js');

export const createListener: CreateListener = platform.createListener;
export const limitRequestBody: LimitRequestBody = platform.limitRequestBody;

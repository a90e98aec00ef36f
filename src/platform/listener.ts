/**
 * The proxy's HTTP listener: node:http on Node; `Bun.serve` on Bun. Either way the request
 * handler sees node:http's request and response objects (on Bun, thin adapters over the fetch
 * API's Request and a streamed Response with the same members the pipeline uses), so the
 * pipeline, the forwarder and the module `ctx` are shared.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isBun } from './runtime.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** What both listeners' responses count: the body bytes sent (an upstream body passed on as a stream: its Content-Length). */
export interface CountedResponse {
  readonly bodyBytes: number;
}

/**
 * Hands an upstream answer's body to the client as it is, without reading it chunk by chunk.
 * Offered by listeners that can (Bun's); the body is a web ReadableStream.
 */
export interface StreamingResponse {
  /** `headers` is the client's to keep (the listener may use it as it is) */
  sendStream(status: number, headers: Headers, body: ReadableStream<Uint8Array> | null): void;
}

/** Where a listener reports client connections opened (+1) and closed (-1); a diagnostics channel. */
export interface ConnectionSink {
  readonly hasSubscribers: boolean;
  publish(event: { readonly delta: 1 | -1 }): void;
}

export interface ListenerOptions {
  host: string;
  port: number;
  /** several processes bind the same port (one per core); the kernel spreads connections */
  reusePort: boolean;
  /** told of every connection while it has subscribers (a connection opened unobserved is not counted when it closes) */
  connections?: ConnectionSink;
}

export interface HttpListener {
  /** resolves with the bound port */
  listen(): Promise<number>;
  /** stops accepting, lets requests in flight finish, then resolves */
  close(): Promise<void>;
}

export type CreateListener = (opts: ListenerOptions, handler: RequestHandler) => HttpListener;

export const createListener: CreateListener = isBun ? (await import('./bun/listener.js')).createListener : (await import('./node/listener.js')).createListener;

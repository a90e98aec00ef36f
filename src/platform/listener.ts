/**
 * The proxy's HTTP listener: node:http on Node; `Bun.serve` on Bun. Either way the request
 * handler sees a ProxyRequest and a ProxyResponse (exchange.ts): node:http's own objects on
 * Node, adapters over the fetch API's Request and a streamed Response on Bun, so the pipeline,
 * the upstream exchange and the module `ctx` are shared.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { ProxyRequest, ProxyResponse } from './exchange.js';
import type { ListenerLimits, OnRefusal } from './listener-limits.js';
import { bunListenerFor, type BunListenerChoice } from './bun-listener-choice.js';

export type { BunListenerChoice } from './bun-listener-choice.js';
import { isBun } from './runtime.js';

export type RequestHandler = (req: ProxyRequest, res: ProxyResponse) => void;

/** The client of a request served from the fetch API's objects (FetchHandler). */
export interface FetchClient {
  /** the client's address, looked up when read */
  readonly remoteAddress: string;
  readonly encrypted: boolean;
  /**
   * The handler's answer as it goes out (the handler resolves with what this returns):
   * `Connection: close` added when the client's `connection` header asked for it, the
   * connection's idle limit set again once the answer completes. `length`: the answer's
   * Content-Length when the caller read it already (null: none), undefined when it did not.
   */
  finish(response: Response, connection: string | undefined, length?: string | null): Response;
}

/**
 * Serves a request straight from the fetch API's Request, answering with a Response (Bun.serve,
 * where that skips the ProxyRequest/ProxyResponse adapters), or returns null, synchronously, to have it
 * served by the RequestHandler instead. `target` is the request target (path and query). It
 * must return null for any request the RequestHandler's head checks (listener-limits.ts guardHead)
 * would refuse, and pass its answer through `client.finish`.
 */
export type FetchHandler = (request: Request, target: string, client: FetchClient) => Promise<Response> | null;

/** What both listeners' responses count: the body bytes sent (an upstream body passed on as a stream: its Content-Length). */
export interface CountedResponse {
  readonly bodyBytes: number;
}

/**
 * Hands an upstream answer's body to the client as it is, without reading it chunk by chunk.
 * Offered by listeners that can (Bun's); the body is a web ReadableStream.
 */
export interface StreamingResponse {
  /**
   * `headers` is the client's to keep (the listener may use it as it is); `response`: the fetch
   * Response that status, headers and body come from, sent as it is when they are still its own
   */
  sendStream(status: number, headers: Headers, body: ReadableStream<Uint8Array> | null, response?: Response): void;
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
  /** header, URL, timeout and connection limits (listener-limits.ts) */
  limits: ListenerLimits;
  /** called for every request or connection the listener refuses */
  onRefusal: OnRefusal;
  /** cleartext HTTP/2 (prior knowledge) on the same port, under these limits; null = HTTP/1.1 only */
  h2c: Http2Limits | null;
  /** tried first for each request by listeners built on the fetch API (Bun's); the others ignore it */
  direct?: FetchHandler | null;
  /** on Bun, the server of HTTP/1.1 (proxy.bun_listener, see bunListenerFor); Node ignores it */
  bunListener?: BunListenerChoice;
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

/**
 * A client's request to switch to WebSocket (`Upgrade: websocket`), given to the upgrade
 * handler with its ProxyRequest/ProxyResponse (res answers a refusal as any request). Once the
 * upstream has accepted, `accept` completes the client's handshake and the listener relays the
 * tunnel until either side closes, it stays idle too long, or the listener closes (1001).
 */
export interface WebSocketUpgrade {
  /**
   * 'bytes': frames pass through untouched (extensions are negotiated end to end, Node);
   * 'messages': the listener ends the client's WebSocket itself and relays messages, so no
   * extension may be negotiated with the upstream (Bun).
   */
  readonly relay: 'bytes' | 'messages';
  /**
   * @param headers the upstream's 101 headers as a flat [name, value, ...] list
   * @param upstream the upstream connection, past its 101 answer
   * @param head bytes the upstream sent after its 101 head
   */
  accept(headers: readonly string[], upstream: Socket, head: Buffer): void;
}

export type UpgradeHandler = (req: ProxyRequest, res: ProxyResponse, upgrade: WebSocketUpgrade) => void;

export interface UpgradeOptions {
  handler: UpgradeHandler;
  /** a tunnel without a frame either way for this long is closed (1001); 0 = never */
  idleTimeoutMs: number;
  /** largest message relayed when the listener reads messages (Bun), bytes */
  maxMessageBytes: number;
}

/** `upgrade`: how WebSocket upgrades are served; without it they are refused like any request the handler refuses. */
export type CreateListener = (opts: ListenerOptions, handler: RequestHandler, upgrade?: UpgradeOptions) => HttpListener;

/**
 * Caps the body of `req` at `max` bytes as it streams in, whoever reads it: past the cap
 * `onExceed` is called once and the reader fails with DG_ERR_BODY_TOO_LARGE.
 */
export type LimitRequestBody = (req: ProxyRequest, max: number, onExceed: () => void) => void;

const bun = isBun ? await import('./bun/listener.js') : null;
const bunNodeHttp = isBun ? await import('./bun/node-http-listener.js') : null;
// node:http (Node, Bun's node:http on the plain port when chosen, and behind the h2c and TLS listeners)
const node = await import('./node/listener.js');
const { createH2cListener } = await import('./http2/h2c-listener.js');

/**
 * HTTP/1.1 (node:http; on Bun, Bun.serve or Bun's node:http by `bunListener`), or HTTP/1.1
 * and h2c on one port (node:http and node:http2 behind a preface check).
 */
export const createListener: CreateListener = (opts, handler, upgrade) => {
  if (opts.h2c !== null) return createH2cListener(opts, opts.h2c, handler, upgrade);
  if (bun === null || bunNodeHttp === null) return node.createListener(opts, handler, upgrade);
  return bunListenerFor(opts.bunListener ?? 'auto', opts.limits) === 'bun_serve' ? bun.createListener(opts, handler, upgrade) : bunNodeHttp.createNodeHttpListener(opts, handler, upgrade);
};
/** Requests that count their own body (Bun.serve's and HTTP/2 streams' adapters); node:http's are counted by the Node adapter. */
interface SelfLimiting {
  limitBody(max: number, onExceed: () => void): void;
}

export const limitRequestBody: LimitRequestBody = (req, max, onExceed) => {
  const own = (req as unknown as Partial<SelfLimiting>).limitBody;
  if (typeof own === 'function') own.call(req, max, onExceed);
  else node.limitRequestBody(req as IncomingMessage, max, onExceed);
};

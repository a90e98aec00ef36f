/**
 * One client request and its answer, as the proxy pipeline, module `ctx`, the upstream exchange
 * and the observers use them: exactly the members they read or call. node:http's
 * IncomingMessage and ServerResponse (and node:http2's compatibility objects) have these members
 * as they are, so on Node the listener's own objects go through unwrapped; the Bun listener
 * implements them over a fetch Request and a streamed Response (bun/listener.ts).
 */

/** The client's headers by lowercase name (a repeated header as its values joined, Set-Cookie as a list). */
export interface RequestHeaders {
  [name: string]: string | string[] | undefined;
  host?: string;
  connection?: string;
  cookie?: string;
  'content-length'?: string;
  'transfer-encoding'?: string;
}

/** The connection a request came on. */
export interface ClientSocket {
  readonly remoteAddress?: string;
  /** over TLS (node:tls sockets and the Bun TLS listener's say so; absent otherwise) */
  readonly encrypted?: boolean;
  /** closes the connection without an answer */
  destroy(): void;
}

/** The client's request; its body is read by iterating it (once). */
export interface ProxyRequest extends AsyncIterable<Buffer> {
  readonly method?: string;
  /** the request target: path and query */
  readonly url?: string;
  /** written once by the pipeline (request id and trace context), read afterwards */
  readonly headers: RequestHeaders;
  /** a flat [name, value, ...] list, as received */
  readonly rawHeaders: string[];
  readonly httpVersion: string;
  /** 2 for HTTP/2 clients (trailers reach only them); absent where it cannot be 2 */
  readonly httpVersionMajor?: number;
  readonly socket: ClientSocket;
  /** the client went away (or the request was destroyed) */
  readonly destroyed: boolean;
}

/** The answer to a ProxyRequest: a head, then the body written in chunks (with back-pressure) or at once. */
export interface ProxyResponse {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  /** the status sent (200 until a head is written) */
  readonly statusCode: number;
  /** `headers`: a flat [name, value, ...] list */
  writeHead(statusCode: number, headers?: string[]): unknown;
  /** false: wait for 'drain' before writing more */
  write(chunk: Uint8Array | string): boolean;
  end(chunk?: Uint8Array | string): unknown;
  /** ends the exchange abruptly: the client sees the connection close */
  destroy(): unknown;
  /** 'close': the answer is done or the client went away; 'drain': writing may go on */
  once(event: 'close' | 'drain', listener: () => void): unknown;
  /** sends the head written now, without waiting for body bytes (node:http); absent where a head is not held */
  flushHeaders?(): void;
  /** trailers after the body (HTTP/2 clients); absent where there are none */
  addTrailers?(trailers: Record<string, string | string[]>): void;
  /** body bytes sent (listener.ts CountedResponse); absent before a listener counts them */
  readonly bodyBytes?: number;
  /** hands an upstream answer on with its body stream as it is (listener.ts StreamingResponse); offered by Bun's listener only */
  sendStream?(status: number, headers: Headers, body: ReadableStream<Uint8Array> | null, response?: Response): void;
}

/**
 * The proxy's HTTP/2 side (node:http2, on Node and on Bun): each client stream is handed to the
 * shared pipeline as node:http-shaped objects (exchange.ts), behind the limits of `proxy.http2`:
 * concurrent streams per connection, bytes of a header list, and stream resets per window
 * (rapid reset, CVE-2023-44487: the abuser's connection is closed with GOAWAY ENHANCE_YOUR_CALM).
 * A request carrying a connection-specific header is malformed (RFC 9113 §8.2.2): refused with
 * RST_STREAM PROTOCOL_ERROR before the pipeline sees it.
 */
import http2, { type Http2Server, type Http2SecureServer, type ServerHttp2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2Limits, RequestHandler } from '../listener.js';
import { connectionSpecificField, H2Request, H2Response } from './exchange.js';

const { NGHTTP2_PROTOCOL_ERROR, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_NO_ERROR } = http2.constants;

/** Server options from the limits (shared by the cleartext and TLS servers). */
export function http2Settings(limits: Http2Limits): http2.ServerOptions {
  return {
    settings: { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: limits.maxHeaderListSize },
    maxHeaderListPairs: 256,
    // a header list is at most maxHeaderListSize bytes; this caps what a client may make the server hold
    maxSessionMemory: 32,
  };
}

/** Counts a connection's client-cancelled streams over a fixed window. */
class ResetCounter {
  #count = 0;
  #windowStart = 0;
  constructor(private readonly limit: number, private readonly windowMs: number) {}
  /** true when this reset goes over the limit */
  add(now: number): boolean {
    if (now - this.#windowStart > this.windowMs) {
      this.#windowStart = now;
      this.#count = 0;
    }
    return ++this.#count > this.limit;
  }
}

/** Serves the streams of `server` (cleartext or TLS) through `handler`, under `limits`. */
export function serveStreams(server: Http2Server | Http2SecureServer, limits: Http2Limits, handler: RequestHandler): void {
  const counters = new WeakMap<object, ResetCounter>();
  server.on('session', (session: ServerHttp2Session) => {
    counters.set(session, new ResetCounter(limits.resetLimit, limits.resetWindowMs));
    session.on('error', () => undefined);
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const session = stream.session;
    if (session !== undefined) {
      stream.once('close', () => {
        // a stream the client cancelled before the answer was complete
        if (stream.rstCode === NGHTTP2_NO_ERROR || stream.rstCode === undefined || res.writableEnded || res.resetByGateway) return;
        const counter = counters.get(session);
        if (counter !== undefined && counter.add(Date.now()) && !session.destroyed) session.destroy(undefined, NGHTTP2_ENHANCE_YOUR_CALM);
      });
    }
    const res = new H2Response(stream);
    if (connectionSpecificField(headers) !== null) {
      // malformed: counted as a reset of the client's
      stream.close(NGHTTP2_PROTOCOL_ERROR);
      return;
    }
    const req = new H2Request(stream, headers, res);
    handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  });
}

/** A cleartext HTTP/2 server (h2c); connections are handed to it with `emit('connection', socket)`. */
export function createH2cServer(limits: Http2Limits, handler: RequestHandler): Http2Server {
  const server = http2.createServer(http2Settings(limits));
  serveStreams(server, limits, handler);
  return server;
}

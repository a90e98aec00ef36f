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
import { bodiless, connectionSpecificField, H2Request, H2Response } from './exchange.js';

const { NGHTTP2_PROTOCOL_ERROR, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_NO_ERROR } = http2.constants;

/** An HTTP/2 connection without any frame for this long is closed (node:http's keepAliveTimeout is the same). */
const IDLE_TIMEOUT_MS = 65_000;

/** Time the streams of a connection closed for too many resets have to finish. */
const ABUSER_GRACE_MS = 1_000;

/** Server options from the limits (shared by the cleartext and TLS servers). */
export function http2Settings(limits: Http2Limits): http2.ServerOptions {
  return {
    settings: { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: limits.maxHeaderListSize },
    // fields of one header list (node:http2 answers more with ENHANCE_YOUR_CALM)
    maxHeaderListPairs: 256,
  };
}

/** Counts a connection's client-cancelled streams over a fixed window. */
class ResetCounter {
  readonly #limit: number;
  readonly #windowMs: number;
  #count = 0;
  #windowStart = 0;
  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }
  /** true when this reset goes over the limit */
  add(now: number): boolean {
    if (now - this.#windowStart > this.#windowMs) {
      this.#windowStart = now;
      this.#count = 0;
    }
    return ++this.#count > this.#limit;
  }
}

/** Serves the streams of `server` (cleartext or TLS) through `handler`, under `limits`. */
export function serveStreams(server: Http2Server | Http2SecureServer, limits: Http2Limits, handler: RequestHandler): void {
  server.on('session', (session: ServerHttp2Session) => {
    const counter = new ResetCounter(limits.resetLimit, limits.resetWindowMs);
    let calmed = false;
    session.on('error', () => undefined);
    // an idle connection is told to go away (streams still open finish first), as HTTP/1.1 keep-alive ends
    session.setTimeout(IDLE_TIMEOUT_MS, () => session.close());
    /** counts a client's reset; past the limit its connection is told to go away */
    const reset = () => {
      if (!counter.add(Date.now()) || session.destroyed || calmed) return;
      calmed = true;
      // outside the frame parser's callback: no new streams; those open get a moment to finish, then the connection goes
      setImmediate(() => {
        if (session.destroyed) return;
        session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
        session.close();
        setTimeout(() => session.destroy(), ABUSER_GRACE_MS).unref();
      });
    };
    session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      // reset in the same read as its HEADERS frame: over before it is seen
      if (stream.destroyed || stream.closed) {
        if (stream.rstCode !== undefined && stream.rstCode !== NGHTTP2_NO_ERROR) reset();
        return;
      }
      const res = new H2Response(stream);
      // a request without a body has nothing to read: its stream can end (and close) on its own
      if (bodiless(stream, headers)) stream.resume();
      stream.once('aborted', () => {
        // the gateway's own reset (its RST_STREAM is still to be written: the stream must stay)
        if (res.resetByGateway) return;
        // reset by the client before the answer was complete
        reset();
        // an unread request body would otherwise hold the stream (and its 'close') open
        if (!stream.destroyed) stream.destroy();
      });
      if (connectionSpecificField(headers) !== null) {
        // malformed (RFC 9113 §8.2.2); counted as a reset of the client's
        res.reset(NGHTTP2_PROTOCOL_ERROR);
        reset();
        return;
      }
      if (headerListSize(headers) > limits.maxHeaderListSize) {
        res.writeHead(431, ['content-type', 'text/plain; charset=utf-8']);
        res.end('Request Header Fields Too Large\n');
        return;
      }
      const req = new H2Request(stream, headers, res);
      handler(req, res);
    });
  });
}

/** Size of a header list as HTTP/2 counts it (RFC 9113 §6.5.2): name and value octets plus 32 per field. */
function headerListSize(headers: IncomingHttpHeaders): number {
  let n = 0;
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) n += name.length + x.length + 32;
    else n += name.length + String(v).length + 32;
  }
  return n;
}

/** A cleartext HTTP/2 server (h2c); connections are handed to it with `emit('connection', socket)`. */
export function createH2cServer(limits: Http2Limits, handler: RequestHandler): Http2Server {
  const server = http2.createServer(http2Settings(limits));
  serveStreams(server, limits, handler);
  return server;
}

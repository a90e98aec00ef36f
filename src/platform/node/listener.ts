import http from 'node:http';
import { listen } from '../../net/listen.js';
import type { HttpListener, ListenerOptions, RequestHandler } from '../listener.js';

const OPENED = Object.freeze({ delta: 1 as const });
const CLOSED = Object.freeze({ delta: -1 as const });

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return (chunk as Uint8Array | null | undefined)?.byteLength ?? 0;
}

/** node:http's response counting the body bytes written (`bodyBytes`, read by request observers). */
class CountingResponse<Req extends http.IncomingMessage = http.IncomingMessage> extends http.ServerResponse<Req> {
  bodyBytes = 0;

  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    this.bodyBytes += byteLength(chunk, encoding);
    return (super.write as (c: unknown, e?: unknown, cb?: unknown) => boolean)(chunk, encoding, cb);
  }

  override end(chunk?: unknown, encoding?: unknown, cb?: unknown): this {
    if (chunk !== undefined && typeof chunk !== 'function') this.bodyBytes += byteLength(chunk, encoding);
    return (super.end as (c?: unknown, e?: unknown, cb?: unknown) => this)(chunk, encoding, cb);
  }
}

/** node:http; a malformed request is answered 400 and closed by the parser, before any handler. */
export function createListener(opts: ListenerOptions, handler: RequestHandler): HttpListener {
  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, ServerResponse: CountingResponse }, handler);
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  const sink = opts.connections;
  if (sink !== undefined) {
    server.on('connection', (socket: import('node:net').Socket) => {
      if (!sink.hasSubscribers) return;
      sink.publish(OPENED);
      socket.once('close', () => sink.publish(CLOSED));
    });
  }
  return {
    listen: () => listen(server, opts.port, opts.host),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

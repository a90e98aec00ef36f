import http from 'node:http';
import { listen } from '../../net/listen.js';
import type { HttpListener, ListenerOptions, RequestHandler } from '../listener.js';

/** node:http; a malformed request is answered 400 and closed by the parser, before any handler. */
export function createHttpServer(handler: RequestHandler): http.Server {
  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, handler);
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

export function createListener(opts: ListenerOptions, handler: RequestHandler): HttpListener {
  const server = createHttpServer(handler);
  return {
    listen: () => listen(server, opts.port, opts.host),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

import type { Server, Socket } from 'node:net';
import { listen } from '../../net/listen.js';
import type { HttpListener, ListenerOptions, RequestHandler, UpgradeOptions } from '../listener.js';
import { reportConnections } from '../node/connections.js';
import { ConnectionDeadlines } from '../connection-deadlines.js';
import { HandedConnections } from '../handed-connections.js';
import { createHttpServer } from '../node/listener.js';

/** Bun's node:http behind a front server that accepts the connections (node:net or node:tls). */
export interface HandedHttp {
  /** a connection the front accepted (for TLS: once its handshake is done) */
  accept(socket: Socket): void;
  /** cuts idle connections now and busy ones when their answer is done; closes tunnels */
  close(): void;
}

/**
 * Bun's node:http serving connections handed to it with `emit('connection')`. Bun's node:http
 * sees a connection only once its first bytes arrive, so the front counts and caps them; and it
 * does not time handed connections, so ConnectionDeadlines does (head, body and keep-alive idle).
 */
export function handedHttp(opts: ListenerOptions, handler: RequestHandler, upgrade?: UpgradeOptions): HandedHttp {
  const handed = new HandedConnections();
  const deadlines = new ConnectionDeadlines(opts.limits, opts.onRefusal);
  const { server: http, upgrades } = createHttpServer(
    opts,
    (req, res) => {
      handed.request(req, res);
      deadlines.request(req, res);
      handler(req, res);
    },
    upgrade,
  );
  // a WebSocket tunnel is timed by the tunnel itself
  http.on('upgrade', (_req: unknown, socket: Socket) => deadlines.release(socket));
  return {
    accept: (socket) => {
      handed.add(socket);
      deadlines.watch(socket);
      http.emit('connection', socket);
    },
    close: () => {
      void upgrades?.close();
      handed.close();
    },
  };
}

/**
 * The front server's part of a listener: the connection cap (a connection past it is closed at
 * once and reported), connection events, and binding the port (Bun's workers each bind it,
 * SO_REUSEPORT); closing stops accepting, then cuts idle connections as `http.close` does.
 */
export function frontListener(front: Server, http: HandedHttp, opts: ListenerOptions): HttpListener {
  if (opts.limits.maxConnections > 0) front.maxConnections = opts.limits.maxConnections;
  front.on('drop', () => opts.onRefusal('connection_limit'));
  reportConnections(front, opts.connections);
  return {
    listen: () => listen(front, opts.port, opts.host, opts.reusePort),
    close: () =>
      new Promise((resolve) => {
        front.close(() => resolve());
        http.close();
      }),
  };
}

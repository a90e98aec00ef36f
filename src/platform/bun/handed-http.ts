import type { Socket } from 'node:net';
import type { ListenerOptions, RequestHandler, UpgradeOptions } from '../listener.js';
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

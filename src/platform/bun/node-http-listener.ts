import net from 'node:net';
import type { HttpListener, ListenerOptions, RequestHandler, UpgradeOptions } from '../listener.js';
import { frontListener, handedHttp } from './handed-http.js';

/**
 * The plain port served by Bun's node:http instead of Bun.serve (`proxy.bun_listener`): every
 * listener limit holds as on Node (the configured head deadline, the connection cap counting
 * idle connections, 400 for a bare LF), at a cost in requests per second. Bun's node:http
 * accepting on its own sees a connection only once it sends bytes (a silent one is neither
 * capped nor closed when dropped), so a node:net server accepts them and hands them over.
 */
export function createNodeHttpListener(opts: ListenerOptions, handler: RequestHandler, upgrade?: UpgradeOptions): HttpListener {
  const http = handedHttp(opts, handler, upgrade);
  const front = net.createServer({ noDelay: true }, (socket) => http.accept(socket));
  return frontListener(front, http, opts);
}

import http from 'node:http';
import { listen } from '../../net/listen.js';
import { reportConnections } from './connections.js';
import type { HttpListener, ListenerOptions, RequestHandler, UpgradeOptions } from '../listener.js';
import { NodeUpgrades } from './upgrade.js';

/** node:http; a malformed request is answered 400 and closed by the parser, before any handler. */
export function createListener(opts: ListenerOptions, handler: RequestHandler, upgrade?: UpgradeOptions): HttpListener {
  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, handler);
  const upgrades = upgrade === undefined ? null : new NodeUpgrades(upgrade, server);
  if (upgrades !== null) server.on('upgrade', upgrades.onUpgrade);
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  reportConnections(server, opts.connections);
  return {
    listen: () => listen(server, opts.port, opts.host),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        void upgrades?.close();
      }),
  };
}

import type { Server } from 'node:http';
import { createServer } from 'node:https';
import type { TlsCertificate } from '../platform/tls-listener.js';
import { TLS_MIN_VERSION } from '../platform/tls-listener.js';

/**
 * admin.tls: an HTTPS listener that serves the admin API of `plain` (same routes, guards and
 * answers) beside the plain HTTP one; node:https on both runtimes.
 */
export function createAdminTlsServer(plain: Server, certificate: TlsCertificate): Server {
  const server = createServer({ cert: certificate.cert, key: certificate.key, minVersion: TLS_MIN_VERSION }, (req, res) => {
    plain.emit('request', req, res);
  });
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  return server as unknown as Server;
}

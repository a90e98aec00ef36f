import https from 'node:https';
import type { RequestHandler, UpgradeOptions } from '../listener.js';
import type { TlsHttpListener, TlsListenerOptions } from '../tls-listener.js';
import { TLS_MIN_VERSION } from '../tls-version.js';
import { parserHeadLimit } from '../parser-head-limit.js';
import { guardHead } from '../listener-limits.js';
import { reportConnections } from './connections.js';
import { guardServer, serverOptions, serving } from './listener.js';
import { NodeUpgrades } from './upgrade.js';
import { SniCertificates } from '../sni.js';

/**
 * node:https. The SNI callback asks the current selector for each handshake, so replacing the
 * selector changes the certificate of the next handshake without touching open connections.
 * A secure context is built once per certificate object and kept while that object is in use.
 */
export function createTlsListener(opts: TlsListenerOptions, handler: RequestHandler, upgrade?: UpgradeOptions): TlsHttpListener {
  const sni = new SniCertificates(opts.fallback);
  const server = https.createServer(
    {
      ...(opts.fallback === null ? {} : { cert: opts.fallback.cert, key: opts.fallback.key }),
      minVersion: TLS_MIN_VERSION,
      // a client that has not finished its handshake within the head deadline is cut, as a slow head is
      handshakeTimeout: opts.limits.headerTimeoutMs,
      // TLS records cut a long request line into pieces, so the parser's overflow cannot tell a long
      // URL from big headers: its limit sits above the listener's, which guardHead checks (414/431)
      ...serverOptions(opts.limits, parserHeadLimit(opts.limits.maxHeaderBytes, opts.limits.maxUrlBytes)),
      SNICallback: sni.callback,
    },
    guardHead(opts.limits, opts.onRefusal, handler, { headSize: true, repeatedContentLength: false }),
  );
  reportConnections(server, opts.connections);
  guardServer(server, opts);
  // a failed handshake (wrong protocol version, no certificate for the name) only closes that socket
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  const upgrades = upgrade === undefined ? null : new NodeUpgrades(upgrade, server);
  if (upgrades !== null) server.on('upgrade', upgrades.onUpgrade);
  return {
    ...serving(server, upgrades, opts),
    setCertificates: async (next) => {
      sni.use(next);
    },
  };
}

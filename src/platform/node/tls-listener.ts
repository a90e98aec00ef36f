import https from 'node:https';
import tls, { type SecureContext } from 'node:tls';
import { listen } from '../../net/listen.js';
import type { RequestHandler, UpgradeOptions } from '../listener.js';
import type { CertificateSelector, TlsCertificate, TlsHttpListener, TlsListenerOptions } from '../tls-listener.js';
import { TLS_MIN_VERSION } from '../tls-version.js';
import { parserHeadLimit } from '../bun-head-limit.js';
import { guardHead } from '../listener-limits.js';
import { reportConnections } from './connections.js';
import { guardServer, serverOptions } from './listener.js';
import { NodeUpgrades } from './upgrade.js';

/**
 * node:https. The SNI callback asks the current selector for each handshake, so replacing the
 * selector changes the certificate of the next handshake without touching open connections.
 * A secure context is built once per certificate object and kept while that object is in use.
 */
export function createTlsListener(opts: TlsListenerOptions, handler: RequestHandler, upgrade?: UpgradeOptions): TlsHttpListener {
  let selector: CertificateSelector | null = null;
  const contexts = new WeakMap<TlsCertificate, SecureContext>();
  const contextOf = (c: TlsCertificate): SecureContext => {
    let ctx = contexts.get(c);
    if (ctx === undefined) {
      ctx = tls.createSecureContext({ cert: c.cert, key: c.key, minVersion: TLS_MIN_VERSION });
      contexts.set(c, ctx);
    }
    return ctx;
  };
  const server = https.createServer(
    {
      ...(opts.fallback === null ? {} : { cert: opts.fallback.cert, key: opts.fallback.key }),
      minVersion: TLS_MIN_VERSION,
      // TLS records cut a long request line into pieces, so the parser's overflow cannot tell a long
      // URL from big headers: its limit sits above the listener's, which guardHead checks (414/431)
      ...serverOptions(opts.limits, parserHeadLimit(opts.limits.maxHeaderBytes, opts.limits.maxUrlBytes)),
      SNICallback: (servername, cb) => {
        let chosen: TlsCertificate | null = null;
        try {
          chosen = selector?.select(servername.toLowerCase()) ?? null;
          // undefined: the server's own (fallback) certificate
          cb(null, chosen === null ? undefined : contextOf(chosen));
        } catch (err) {
          cb(err as Error, undefined);
        }
      },
    },
    guardHead(opts.limits, opts.onRefusal, handler, true),
  );
  reportConnections(server, opts.connections);
  guardServer(server, opts);
  // a failed handshake (wrong protocol version, no certificate for the name) only closes that socket
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  const upgrades = upgrade === undefined ? null : new NodeUpgrades(upgrade, server);
  if (upgrades !== null) server.on('upgrade', upgrades.onUpgrade);
  return {
    listen: () => listen(server, opts.port, opts.host),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        void upgrades?.close();
      }),
    setCertificates: async (next) => {
      // contexts of certificates no longer selected go with the old selector's objects
      selector = next;
    },
  };
}

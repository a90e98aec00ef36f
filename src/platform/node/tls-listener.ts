import https from 'node:https';
import tls, { type SecureContext } from 'node:tls';
import { listen } from '../../net/listen.js';
import type { RequestHandler } from '../listener.js';
import type { CertificateSelector, TlsCertificate, TlsHttpListener, TlsListenerOptions } from '../tls-listener.js';
import { TLS_MIN_VERSION } from '../tls-version.js';

/**
 * node:https. The SNI callback asks the current selector for each handshake, so replacing the
 * selector changes the certificate of the next handshake without touching open connections.
 * A secure context is built once per certificate object and kept while that object is in use.
 */
export function createTlsListener(opts: TlsListenerOptions, handler: RequestHandler): TlsHttpListener {
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
      keepAliveTimeout: 65_000,
      requestTimeout: 0,
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
    handler,
  );
  server.on('clientError', (err, socket) => {
    if (socket.writable && (socket as tls.TLSSocket).encrypted) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  // a failed handshake (wrong protocol version, no certificate for the name) only closes that socket
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  return {
    listen: () => listen(server, opts.port, opts.host),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
    setCertificates: async (next) => {
      // contexts of certificates no longer selected go with the old selector's objects
      selector = next;
    },
  };
}

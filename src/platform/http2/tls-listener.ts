/**
 * The HTTPS listener with HTTP/2 (proxy.enable_http2): node:http2's secure server on Node and
 * on Bun, ALPN offering h2 then http/1.1. HTTP/2 streams go through the limits of server.ts;
 * HTTP/1.1 clients (ALPN http/1.1 or none) are answered by the same server's HTTP/1.1 side.
 * The certificate is chosen per handshake by SNI, as the HTTP/1.1-only TLS listener does.
 */
import http2, { type ServerHttp2Session } from 'node:http2';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { listen } from '../../net/listen.js';
import type { Http2Limits, RequestHandler, UpgradeOptions } from '../listener.js';
import { NodeUpgrades } from '../node/upgrade.js';
import type { TlsHttpListener, TlsListenerOptions } from '../tls-listener.js';
import { TLS_MIN_VERSION } from '../tls-version.js';
import { http2Settings, serveStreams } from './server.js';
import { SniCertificates } from '../sni.js';

export function createH2TlsListener(opts: TlsListenerOptions, limits: Http2Limits, handler: RequestHandler, upgrade?: UpgradeOptions): TlsHttpListener {
  const sni = new SniCertificates(opts.fallback);
  const server = http2.createSecureServer({
    ...(opts.fallback === null ? {} : { cert: opts.fallback.cert, key: opts.fallback.key }),
    ...http2Settings(limits),
    minVersion: TLS_MIN_VERSION,
    // a client that has not finished its handshake within the head deadline is cut, as a slow head is
    handshakeTimeout: opts.limits.headerTimeoutMs,
    allowHTTP1: true,
    ALPNProtocols: ['h2', 'http/1.1'],
    SNICallback: sni.callback,
  });
  // HTTP/1.1 requests arrive as 'request' with node:http's objects. Listening to 'request' also
  // makes node:http2 wrap each HTTP/2 stream in its compatibility objects: that listener is
  // removed, the streams are served by serveStreams (per session).
  server.on('request', (req, res) => {
    if (req.httpVersionMajor !== 2) handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  });
  server.removeAllListeners('stream');
  serveStreams(server, limits, handler);
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (s: ServerHttp2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  // a failed handshake (wrong protocol version, no certificate for the name) only closes that socket
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  // WebSocket upgrades of HTTP/1.1 clients (their HTTP/1.1 side emits 'upgrade' as node:http does)
  const upgrades = upgrade === undefined ? null : new NodeUpgrades(upgrade, server as unknown as Server);
  if (upgrades !== null) server.on('upgrade', upgrades.onUpgrade);
  return {
    listen: () => listen(server, opts.port, opts.host),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.close();
        void upgrades?.close();
      }),
    setCertificates: async (next) => {
      sni.use(next);
    },
  };
}

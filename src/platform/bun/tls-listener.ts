import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { RequestHandler, UpgradeOptions } from '../listener.js';
import type { TlsHttpListener, TlsListenerOptions } from '../tls-listener.js';
import { TLS_MIN_VERSION } from '../tls-version.js';
import { frontListener, handedHttp } from './handed-http.js';
import { SniCertificates } from '../sni.js';

/**
 * Bun's node:tls server, each connection handed once its handshake is done to Bun's node:http
 * (the server the h2c listener's HTTP/1.1 side uses). Bun.serve takes its certificates as a
 * static list that a running server cannot change (oven-sh/bun#43815), and Bun's node:https
 * ignores `SNICallback`; Bun's node:tls server calls it. So, as on Node, the SNI callback asks the
 * current selector for each handshake: a certificate change applies to the next handshake and
 * leaves open connections (idle keep-alive ones included) as they are, and every domain pattern
 * kind gets its certificate. A secure context is built once per certificate object.
 */
export function createTlsListener(opts: TlsListenerOptions, handler: RequestHandler, upgrade?: UpgradeOptions): TlsHttpListener {
  const sni = new SniCertificates(opts.fallback);

  const http = handedHttp(opts, handler, upgrade);

  const front = tls.createServer(
    {
      ...(opts.fallback === null ? {} : { cert: opts.fallback.cert, key: opts.fallback.key }),
      minVersion: TLS_MIN_VERSION,
      // a client that has not finished its handshake within the head deadline is cut, as a slow head is
      handshakeTimeout: opts.limits.headerTimeoutMs,
      SNICallback: sni.callback,
    },
    (socket) => http.accept(socket),
  );
  // a failed handshake (wrong protocol version, no certificate for the name) only closes that socket
  front.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());

  return {
    ...frontListener(front, http, opts),
    setCertificates: async (next) => {
      sni.use(next);
    },
  };
}

/**
 * The proxy's HTTPS listener, the certificate chosen per handshake by an SNI callback: node:https
 * on Node; on Bun, Bun's node:tls server handing its connections to Bun's node:http (Bun.serve
 * and Bun's node:https have no SNI callback). Requests reach the same handler as the plain
 * listener's, with `req.socket.encrypted` true.
 */
import { isBun } from './runtime.js';
import type { Http2Limits, HttpListener, ListenerOptions, RequestHandler, UpgradeOptions } from './listener.js';

export { TLS_MIN_VERSION } from './tls-version.js';

/** A PEM certificate (chain) and its private key. */
export interface TlsCertificate {
  readonly cert: string;
  readonly key: string;
}

/** A certificate with a host name as Bun's static SNI list takes it (exact, or `*.example.com`). */
export interface NamedCertificate {
  readonly serverName: string;
  readonly certificate: TlsCertificate;
}

/** The certificates served for SNI host names, replaced as a whole when they change. */
export interface CertificateSelector {
  /**
   * The certificate for a handshake's SNI name (lowercase), or null for the listener's default.
   * Returns the same object for the same certificate as long as it does not change.
   */
  select(serverName: string): TlsCertificate | null;
  /** The same choice as a static list, most preferred first (Bun: no per-handshake callback). */
  readonly named: readonly NamedCertificate[];
}

export interface TlsListenerOptions extends ListenerOptions {
  /** served when SNI is absent or picks no certificate; null = such handshakes fail */
  readonly fallback: TlsCertificate | null;
  /** HTTP/2 by ALPN (h2, then http/1.1) under these limits (proxy.enable_http2); null = HTTP/1.1 only */
  readonly h2: Http2Limits | null;
}

export interface TlsHttpListener extends HttpListener {
  /** New handshakes choose from `certificates`; connections already open keep theirs. */
  setCertificates(certificates: CertificateSelector): Promise<void>;
}

/** `upgrade`: WebSocket upgrades (wss://), as on the plain listener */
export type CreateTlsListener = (opts: TlsListenerOptions, handler: RequestHandler, upgrade?: UpgradeOptions) => TlsHttpListener;

const createHttp1TlsListener: CreateTlsListener = isBun
  ? (await import('./bun/tls-listener.js')).createTlsListener
  : (await import('./node/tls-listener.js')).createTlsListener;
const { createH2TlsListener } = await import('./http2/tls-listener.js');

/** HTTPS (the runtime's own listener), or with `h2` HTTP/2 and HTTP/1.1 by ALPN (node:http2's secure server, both runtimes). */
export const createTlsListener: CreateTlsListener = (opts, handler, upgrade) =>
  opts.h2 === null ? createHttp1TlsListener(opts, handler, upgrade) : createH2TlsListener(opts, opts.h2, handler, upgrade);

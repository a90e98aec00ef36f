import tls, { type SecureContext } from 'node:tls';
import type { CertificateSelector, TlsCertificate } from './tls-listener.js';
import { TLS_MIN_VERSION } from './tls-version.js';

type SniDone = (err: Error | null, ctx?: SecureContext) => void;

/**
 * Domain certificates chosen per handshake by SNI, for node:tls-based servers (node:https and
 * node:http2 on Node, node:tls on Bun). `callback` asks the current selector for each handshake,
 * so `use(next)` changes the certificate of the next handshake without touching open connections.
 * A secure context is built once per certificate object and kept while that object is in use.
 */
export class SniCertificates {
  #selector: CertificateSelector | null = null;
  readonly #contexts = new WeakMap<TlsCertificate, SecureContext>();
  /** the certificate for names no domain certificate matches; null: such handshakes fail */
  readonly #fallback: SecureContext | null;

  constructor(fallback: TlsCertificate | null) {
    this.#fallback = fallback === null ? null : this.#contextOf(fallback);
  }

  /** New handshakes choose from `selector` (contexts of certificates no longer selected go with the old one). */
  use(selector: CertificateSelector): void {
    this.#selector = selector;
  }

  /** The servers' SNICallback. */
  readonly callback = (servername: string, done: SniDone): void => {
    try {
      const chosen = this.#selector?.select(servername.toLowerCase()) ?? null;
      const ctx = chosen === null ? this.#fallback : this.#contextOf(chosen);
      if (ctx === null) done(new Error(`no certificate for ${servername}`));
      else done(null, ctx);
    } catch (err) {
      done(err as Error);
    }
  };

  #contextOf(c: TlsCertificate): SecureContext {
    let ctx = this.#contexts.get(c);
    if (ctx === undefined) {
      ctx = tls.createSecureContext({ cert: c.cert, key: c.key, minVersion: TLS_MIN_VERSION });
      this.#contexts.set(c, ctx);
    }
    return ctx;
  }
}

import { createHttp2UpstreamPool, createUpstreamPool, type UpstreamPool } from '../platform/upstream.js';
import { isPrivateAddress, privateAddressError, publicOnlyLookup } from './private-addresses.js';
import type { PoolProvider, PoolSettings } from '../runtime/service-runtime.js';

/** Transport settings from proxy.client_transport, applied to every upstream pool. */
export interface TransportOptions {
  /** max connections per upstream origin; 0 = unlimited */
  maxConnsPerHost: number;
  /** keep-alive time of an idle upstream connection, ms */
  idleConnTimeoutMs: number;
  /** default connect timeout when a service sets none, ms */
  dialTimeoutMs: number;
  /** time to wait for response headers when a service sets no requestTimeout, ms (0 = undici default) */
  responseHeaderTimeoutMs: number;
  disableKeepAlives: boolean;
  /** TCP keep-alive on upstream sockets: idle time before the first probe, ms (0 = undici's default, 60 s) */
  keepAliveMs: number;
  /** refuse loopback/private upstream addresses */
  disablePrivateIps: boolean;
}

export const defaultTransport: TransportOptions = {
  maxConnsPerHost: 0,
  idleConnTimeoutMs: 60_000,
  dialTimeoutMs: 10_000,
  responseHeaderTimeoutMs: 0,
  disableKeepAlives: false,
  keepAliveMs: 0,
  disablePrivateIps: false,
};

function keyOf(s: PoolSettings): string {
  return `${s.origin}|${s.tlsSkipVerify ? 1 : 0}|${s.connectTimeoutMs}|${s.http2 ? 2 : 1}`;
}

/**
 * Keep-alive connection pools to upstreams (undici on Node, fetch on Bun; node:http2 sessions for http2Only
 * services), one per (origin, TLS verification, connect timeout, protocol). Pools outlive runtime tables: a new revision reuses the pools (and open connections)
 * of unchanged services; pools that no table uses any more are closed once idle.
 */
export class PoolRegistry implements PoolProvider<UpstreamPool> {
  readonly #pools = new Map<string, UpstreamPool>();
  #used = new Set<string>();
  readonly #transport: TransportOptions;

  constructor(transport: TransportOptions = defaultTransport) {
    this.#transport = transport;
  }

  pool(s: PoolSettings): UpstreamPool {
    const key = keyOf(s);
    this.#used.add(key);
    let p = this.#pools.get(key);
    if (p === undefined) {
      const t = this.#transport;
      const address = new URL(s.origin).hostname.replace(/^\[|\]$/g, '');
      p = (s.http2 ? createHttp2UpstreamPool : createUpstreamPool)({
        origin: s.origin,
        connections: t.maxConnsPerHost > 0 ? t.maxConnsPerHost : null,
        keepAlive: !t.disableKeepAlives,
        keepAliveTimeoutMs: t.idleConnTimeoutMs,
        headersTimeoutMs: t.responseHeaderTimeoutMs > 0 ? t.responseHeaderTimeoutMs : undefined,
        connectTimeoutMs: s.connectTimeoutMs > 0 ? s.connectTimeoutMs : t.dialTimeoutMs,
        rejectUnauthorized: !s.tlsSkipVerify,
        tcpKeepAliveMs: t.keepAliveMs,
        lookup: t.disablePrivateIps ? publicOnlyLookup : null,
        // An upstream named by a private address, when those are refused: no connection is ever made.
        refuse: t.disablePrivateIps && isPrivateAddress(address) ? privateAddressError(new URL(s.origin).hostname) : null,
      });
      this.#pools.set(key, p);
    }
    return p;
  }

  /** Closes (gracefully) the pools neither in `retain` nor requested since the previous call. */
  sweep(retain: Iterable<UpstreamPool> = []): void {
    const kept = new Set(retain);
    for (const [key, p] of this.#pools) {
      if (!this.#used.has(key) && !kept.has(p)) {
        this.#pools.delete(key);
        p.close().catch(() => undefined);
      }
    }
    this.#used = new Set();
  }

  async close(): Promise<void> {
    const all = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}

import type { Service } from '../core/types.js';
import { splitTarget, type TargetBase } from './upstream-url.js';

/** Settings of the connection pool a target is served by; equal keys share one pool. */
export interface PoolSettings {
  origin: string;
  tlsSkipVerify: boolean;
  connectTimeoutMs: number;
  /** HTTP/2 to the upstream (service http2Only) */
  http2: boolean;
}

/** Gives each target the connection pool for its settings (see proxy/pools.ts). */
export interface PoolProvider<P> {
  pool(settings: PoolSettings): P;
}

export interface Target<P> extends TargetBase {
  readonly pool: P;
}

const NS_PER_MS = 1_000_000;

/** One service as the proxy uses it: targets with their pools, round-robin, retry and timeout settings. */
export class ServiceRuntime<P> {
  /** the service as stored (a table rebuild keeps this runtime while it is unchanged) */
  readonly definition: Service;
  readonly name: string;
  readonly targets: readonly Target<P>[];
  readonly retries: number;
  readonly retryTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly hideDGateHeaders: boolean;
  readonly disableQueryParams: boolean;
  #next = 0;

  constructor(service: Service, pools: PoolProvider<P>) {
    this.definition = service;
    this.name = service.name;
    this.retries = service.retries;
    this.retryTimeoutMs = service.retryTimeout / NS_PER_MS;
    this.requestTimeoutMs = service.requestTimeout / NS_PER_MS;
    this.hideDGateHeaders = service.hideDGateHeaders;
    this.disableQueryParams = service.disableQueryParams;
    const connectTimeoutMs = service.connectTimeout / NS_PER_MS;
    this.targets = service.urls.map((url) => {
      const base = splitTarget(url);
      return { ...base, pool: pools.pool({ origin: base.origin, tlsSkipVerify: service.tlsSkipVerify, connectTimeoutMs, http2: service.http2Only }) };
    });
  }

  /** Next target in round-robin order (the first request goes to urls[0]). */
  next(): Target<P> {
    const t = this.targets[this.#next];
    this.#next = (this.#next + 1) % this.targets.length;
    return t;
  }
}

import { Pool } from 'undici';
import type { UpstreamPool, UpstreamPoolOptions } from '../upstream.js';

/** An undici Pool: its dispatch() is the upstream interface, so it is used as it is. */
export function createUpstreamPool(o: UpstreamPoolOptions): UpstreamPool {
  const refuse = o.refuse;
  const connect = {
    timeout: o.connectTimeoutMs,
    rejectUnauthorized: o.rejectUnauthorized,
    keepAlive: true,
    ...(o.tcpKeepAliveMs > 0 ? { keepAliveInitialDelay: o.tcpKeepAliveMs } : {}),
    ...(o.lookup !== null ? { lookup: o.lookup } : {}),
  };
  return new Pool(o.origin, {
    connections: o.connections,
    pipelining: o.keepAlive ? 1 : 0,
    keepAliveTimeout: o.keepAliveTimeoutMs,
    headersTimeout: o.headersTimeoutMs,
    connect: refuse !== null ? (_opts, callback) => callback(refuse, null) : connect,
  }) as unknown as UpstreamPool;
}

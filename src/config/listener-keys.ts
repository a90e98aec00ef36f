/**
 * Config keys of the proxy listener's limits (under `proxy.`), named after the fields of Go's
 * http.Server that DGate's listener is built on (MaxHeaderBytes, ReadHeaderTimeout, ReadTimeout,
 * IdleTimeout), plus the URL, body and connection caps. Defaults are what a public-facing
 * listener should have; README "Limits" describes them.
 */
import { configError } from './config-error.js';
import type { KeySpec } from './keys.js';
import { BUN_LISTENERS } from './config.js';

/** Bun's idleTimeout takes whole seconds up to 255. */
export const MAX_IDLE_TIMEOUT_MS = 255_000;

export const LISTENER_LIMIT_KEYS: Readonly<Record<string, KeySpec>> = {
  max_header_bytes: {
    kind: 'int',
    min: 1024,
    max: 1024 * 1024,
    default: 16 * 1024,
    doc: 'largest request head (request line and header lines); larger: 431 and the connection closed',
  },
  max_url_bytes: {
    kind: 'int',
    min: 256,
    max: 1024 * 1024,
    default: 8 * 1024,
    doc: 'longest request target (path and query); longer: 414 and the connection closed',
  },
  max_body_bytes: {
    kind: 'int',
    min: 0,
    default: 0,
    doc: 'largest request body, counted as it streams (a route\'s maxBodyBytes overrides it); larger: 413, the upstream request aborted; 0 = no limit',
  },
  read_header_timeout: {
    kind: 'duration',
    default: 10_000,
    doc: 'time a client has to send a request head; then 408 and the connection closed (under `bun_listener: bun_serve`, Bun.serve\'s own 10 s and no answer)',
  },
  read_timeout: {
    kind: 'duration',
    default: 60_000,
    doc: 'time a client has to send a whole request, body included; then 408 (or the connection closed once answering started); 0 = no limit',
  },
  idle_timeout: {
    kind: 'duration',
    default: 60_000,
    doc: 'a keep-alive connection with no request in flight is closed after this long (at most 4m15s); 0 = never',
  },
  max_connections: {
    kind: 'int',
    min: 0,
    default: 10_000,
    doc: 'client connections per proxy process; more are closed at once; 0 = no limit (with `bun_listener: bun_serve`: requests in flight, more get 503)',
  },
  bun_listener: {
    kind: 'string',
    enum: BUN_LISTENERS,
    default: 'auto',
    doc: 'Bun only, the plain port\'s HTTP/1.1 server: bun_serve (fastest; its parser keeps a fixed 10 s head deadline, answers a bare LF after the request line with 505 and does not count idle connections), node_http (Bun\'s node:http: every limit as on Node, at about half the requests per second), auto (node_http when read_header_timeout is not 10s or max_connections is neither 10000 nor 0, else bun_serve)',
  },
};

/** Rules between these keys (`proxy`: the built proxy section). */
export function applyListenerRules(proxy: Record<string, unknown>): void {
  const header = proxy['readHeaderTimeoutMs'] as number;
  const read = proxy['readTimeoutMs'] as number;
  const idle = proxy['idleTimeoutMs'] as number;
  if (!(header > 0)) throw configError('proxy.read_header_timeout', 'must be greater than 0 (clients that never finish their request head would hold their connection)');
  if (read > 0 && read < header) throw configError('proxy.read_timeout', `must be 0 or at least proxy.read_header_timeout (${header}ms), got ${read}ms`);
  if (idle > MAX_IDLE_TIMEOUT_MS) throw configError('proxy.idle_timeout', `must be at most 4m15s, got ${idle}ms`);
  if (idle > 0 && idle < 1000) throw configError('proxy.idle_timeout', `must be 0 or at least 1s, got ${idle}ms`);
}

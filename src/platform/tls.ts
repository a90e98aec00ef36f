/**
 * What the runtime's node:tls needs before TLS clients written for Node (the etcd client's gRPC)
 * connect through it. Bun's `tls.connect` throws ERR_INVALID_ARG_VALUE when `servername` is an
 * IP address, where Node ignores it with a warning (RFC 6066: SNI carries host names only); gRPC
 * sets `servername` to the endpoint's host, so `https://127.0.0.1:2379` could not connect on Bun.
 * Chosen once, when this module loads.
 */
import { isBun } from './runtime.js';

/** Makes node:tls clients work as they do on Node; idempotent. */
export const prepareTlsClients: () => void = isBun ? (await import('./bun/tls.js')).dropIpServername : () => {};

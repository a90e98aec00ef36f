/**
 * Behaviours that cannot hold on one runtime: each is a skipped test there, with this reason
 * (the README's "Runtimes" section lists them).
 */
import { runtimeName } from '../../src/platform/runtime.js';

export const onBun = runtimeName === 'bun';

export const BUN_LIMITS = {
  getWithBody: "Bun's fetch refuses a body on GET and HEAD: on Bun such an upstream request fails with 502",
  reusePort:
    'on Bun each worker binds the port with SO_REUSEPORT and the kernel deals connections to a stuck worker too: they wait until the watchdog replaces it (node:cluster workers share one accept queue)',
  tcpKeepAlive:
    "Bun's fetch has no option for the TCP keep-alive idle time of its upstream connections: proxy.client_transport.keep_alive does not apply on Bun (its connections probe after 60 s)",
  bodyFailureUnseen:
    "Bun.serve sends an upstream's body stream itself and tells nothing when it breaks (the client's connection is cut): on Bun the access log and the metrics do not see an upstream body that broke after its head",
  headWithFirstChunk:
    "Bun.serve (1.4) writes a streamed answer's head with its first body chunk: on Bun a client gets an SSE answer's head when its first event comes",
} as const;

/** `{ skip }` option for a test that needs what `reason` says Bun cannot do */
export function unlessBun(reason: string): { skip: string | false } {
  return { skip: onBun ? reason : false };
}

import { DEFAULT_LISTENER_LIMITS, type ListenerLimits } from './listener-limits.js';

/** `proxy.bun_listener`: Bun.serve, Bun's node:http, or the one the limits need. */
export type BunListenerChoice = 'auto' | 'bun_serve' | 'node_http';

/** The head deadline Bun.serve's parser keeps whatever it is told (it checks every few seconds). */
const BUN_SERVE_HEAD_DEADLINE_MS = 10_000;

/**
 * Which server takes HTTP/1.1 on Bun's plain port. Bun.serve is the fast one, but its parser
 * has a fixed head deadline and it does not expose connections; Bun's node:http (which times
 * and counts the connections it accepts, as Node's does) serves every limit. `auto` takes
 * node:http only when the limits ask what Bun.serve cannot do: a head deadline other than its
 * own, or a connection cap other than the default (10000) or none.
 */
export function bunListenerFor(choice: BunListenerChoice, limits: ListenerLimits): 'bun_serve' | 'node_http' {
  if (choice !== 'auto') return choice;
  const cap = limits.maxConnections;
  if (limits.headerTimeoutMs !== BUN_SERVE_HEAD_DEADLINE_MS) return 'node_http';
  return cap === 0 || cap === DEFAULT_LISTENER_LIMITS.maxConnections ? 'bun_serve' : 'node_http';
}

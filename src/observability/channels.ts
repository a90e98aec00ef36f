/**
 * The named channels the request path publishes on. Metrics, stats, module logs and the access
 * log subscribe to them; the request path never calls an observer directly. A channel without
 * subscribers costs one property check (`hasSubscribers`) at the publishing site:
 *
 *   if (channels.requestEnd.hasSubscribers) channels.requestEnd.publish(event);
 *
 * Events are plain objects built only when someone listens. Label-like fields (namespace, route,
 * service, module, hook, upstream origin) come from the configuration, never from the client.
 */
import diagnostics from 'node:diagnostics_channel';

/** A request reached the proxy (published before anything is looked up; the event carries nothing). */
export type RequestStartEvent = Readonly<Record<string, never>>;

/** A request answered by the proxy (also when a module or the gateway answered it). */
export interface RequestEndEvent {
  /** null when no namespace matched the host */
  readonly namespace: string | null;
  /** null when no route matched */
  readonly route: string | null;
  /** null for routes without a service */
  readonly service: string | null;
  /** origin (scheme://host:port) of the upstream that answered; null when none was reached */
  readonly upstream: string | null;
  readonly method: string;
  readonly status: number;
  /** request body bytes read from the client (its Content-Length; 0 for a chunked body) */
  readonly bytesIn: number;
  /** response body bytes sent to the client (on Bun, an upstream body passed on as a stream: its Content-Length, 0 without) */
  readonly bytesOut: number;
  /** time spent in module functions, ms */
  readonly moduleMs: number;
  /** time from sending the upstream request to its last body byte, ms (0 when none) */
  readonly upstreamMs: number;
  /** from the first request byte seen to the last response byte, ms */
  readonly totalMs: number;
  readonly requestId: string | null;
  /**
   * why the answer was cut after its head went out: 'upstream_body' (the upstream's body broke:
   * a reset, fewer bytes than its Content-Length, a chunked body cut off; the client's connection
   * was closed); null or absent when the answer was not cut
   */
  readonly error?: string | null;
}

/** One module function call. */
export interface HookEvent {
  readonly namespace: string;
  readonly module: string;
  /** fetchUpstream, requestModifier, responseModifier, errorHandler or requestHandler */
  readonly hook: string;
  readonly route: string;
  readonly durationMs: number;
  /** true when it threw, rejected or timed out */
  readonly failed: boolean;
}

/** One upstream attempt (a retry on the next URL is a second event with `retry: true`). */
export interface UpstreamEvent {
  readonly namespace: string;
  readonly service: string;
  readonly upstream: string;
  /** until the answer's last byte, or the failure */
  readonly durationMs: number;
  /** the error code when the attempt failed (e.g. ECONNREFUSED, DG_ERR_UPSTREAM_TIMEOUT); null on success */
  readonly error: string | null;
  readonly retry: boolean;
}

/** A line of module output: console.* or an uncaught error of module code. */
export interface ModuleLogEvent {
  readonly namespace: string;
  /** null when the calling module could not be told */
  readonly module: string | null;
  readonly route: string | null;
  readonly requestId: string | null;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  /** ms since the epoch */
  readonly time: number;
}

/** A client connection opened (+1) or closed (-1) on the proxy listener. */
export interface ConnectionEvent {
  readonly delta: 1 | -1;
}

/** A request or connection the proxy listener refused (bad framing, limits, deadlines, the connection cap). */
export interface RefusalEvent {
  /** bad_request, header_too_large, url_too_long, body_too_large, header_timeout, request_timeout or connection_limit */
  readonly reason: string;
}

/** A revision applied by this process's data plane. */
export interface RevisionAppliedEvent {
  readonly rev: number;
  /** time from the commit being seen by the node to the revision being served, ms */
  readonly applyMs: number;
}

/**
 * A step of a write or of a revision on this node, for timing the write path from outside
 * (bench/cluster-propagation.mjs --timeline); published only while something subscribes.
 *   write        the write path got a write (admin API, init_resources, module code)
 *   commit-sent  it was checked and its commit is sent to the store (rev: the revision it expects to get)
 *   committed    the store committed it
 *   received     the syncer got the batch (from the store's watch, or its own node's commit)
 *   applied      the syncer's state holds the revision
 *   live         every data plane of the node serves it
 */
export interface SyncStepEvent {
  readonly step: 'write' | 'commit-sent' | 'committed' | 'received' | 'applied' | 'live';
  readonly rev: number;
}

export interface Channel<T> {
  readonly hasSubscribers: boolean;
  publish(event: T): void;
  subscribe(listener: (event: T) => void): void;
  unsubscribe(listener: (event: T) => void): void;
}

function named<T>(name: string): Channel<T> {
  const ch = diagnostics.channel(name);
  return {
    get hasSubscribers() {
      return ch.hasSubscribers;
    },
    publish: (event) => ch.publish(event),
    subscribe: (listener) => ch.subscribe(listener as (message: unknown) => void),
    unsubscribe: (listener) => void ch.unsubscribe(listener as (message: unknown) => void),
  };
}

export const channels = {
  requestStart: named<RequestStartEvent>('dgate:request:start'),
  requestEnd: named<RequestEndEvent>('dgate:request:end'),
  hook: named<HookEvent>('dgate:module:hook'),
  upstream: named<UpstreamEvent>('dgate:upstream'),
  moduleLog: named<ModuleLogEvent>('dgate:module:log'),
  connection: named<ConnectionEvent>('dgate:proxy:connection'),
  revisionApplied: named<RevisionAppliedEvent>('dgate:revision:applied'),
  refusal: named<RefusalEvent>('dgate:proxy:refusal'),
  syncStep: named<SyncStepEvent>('dgate:sync:step'),
} as const;

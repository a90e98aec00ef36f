/**
 * The shapes the admin API reads and answers. Stored items are the core types (imported as
 * types only: the client shares the gateway's types, never its code).
 */
import type { Document, ItemOf, Kind, Service } from '../core/types.js';

export type { Collection, Document, Domain, ItemOf, Kind, Module, Namespace, Route, Secret, Service } from '../core/types.js';

/** The kinds served by the generic `/api/v1/<kind>` endpoints (documents have their own). */
export type ResourceKind = Exclude<Kind, 'document'>;

/** Service durations may be sent as Go duration strings ("50ms"); they are answered as nanoseconds. */
type DurationField = 'retryTimeout' | 'connectTimeout' | 'requestTimeout';

/**
 * What a PUT accepts: the item's fields, all optional but `name` (the server fills in defaults
 * and answers 400 naming a missing required field).
 */
export type ResourceInput<K extends ResourceKind> = { name: string } & (K extends 'service'
  ? Partial<Omit<Service, DurationField>> & { [F in DurationField]?: number | string }
  : Partial<ItemOf[K]>);

/** One page of `GET /document?collection=`. */
export interface DocumentPage {
  documents: Document[];
  /** documents in the collection, all pages together */
  total: number;
  limit: number;
  offset: number;
}

/** `GET /changelog`: the current revision (`count` and `latest` are DGate's names for it). */
export interface Changelog {
  rev: number;
  count: number;
  latest: string;
}

/** One HTTP exchange, reported to `onRequest` once it is answered (or has failed). */
export interface RequestRecord {
  method: string;
  url: string;
  /** null when no answer came (connection failure) */
  status: number | null;
  durationMs: number;
}

/** Basic auth, or an API key sent in a header (`X-DGate-Key` unless told otherwise). */
export type AdminAuth = { username: string; password: string } | { key: string; header?: string };

/** One gateway node in `GET /api/v1/cluster`. */
export interface ClusterNode {
  id: string;
  /** the node's admin API URL */
  address: string;
  tags: string[];
  version: string;
  /** the node refuses admin writes (`admin.watch_only`) */
  watchOnly: boolean;
  /** the revision the node has applied */
  rev: number;
  /** ISO 8601 */
  lastSeen: string;
  startedAt: string;
  /** ok; behind (fewer revisions applied than another node); degraded (could not apply a batch: see error) */
  status: 'ok' | 'behind' | 'degraded';
  error: string | null;
}

/** `GET /api/v1/cluster`: the live nodes sorted by id, and the id and revision of the node that answered. */
export interface ClusterView {
  nodes: ClusterNode[];
  node: string;
  rev: number;
}

/** Counts and latency percentiles (ms; null without requests) of one window. */
export interface StatsWindow {
  requests: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export type StatsWindows = Record<'1m' | '5m' | '1h', StatsWindow>;

export interface StatsQuery {
  namespace?: string;
  route?: string;
  service?: string;
  module?: string;
  /** cluster (default): every live node; node: the node asked */
  scope?: 'node' | 'cluster';
}

/** `GET /api/v1/stats`. */
export interface StatsReport {
  node: string;
  scope: 'node' | 'cluster';
  filters: Record<string, string>;
  /** the nodes asked, and whether each answered in time */
  nodes: Array<{ id: string; address: string; answered: boolean; error: string | null }>;
  total: StatsWindows;
  routes: Array<{ namespace: string; route: string; service: string; windows: StatsWindows }>;
  modules: Array<{ namespace: string; route: string; module: string; windows: StatsWindows }>;
}

/** One module log line of `GET /api/v1/logs` (console output or an uncaught error of module code). */
export interface ModuleLogLine {
  /** the line's number on the node that answered (increasing; the SSE event id) */
  seq: number;
  /** ISO 8601 */
  time: string;
  namespace: string;
  /** null when the calling module could not be told */
  module: string | null;
  /** null outside a hook call (timers, top-level code) */
  route: string | null;
  /** the X-Request-Id of the request being handled, null when none */
  requestId: string | null;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  /** process id of the proxy process the line comes from */
  pid: number;
  /** on a line that reports dropped lines of its module: how many */
  dropped?: number;
}

/** Filters of `GET /api/v1/logs`; absent ones do not filter. */
export interface ModuleLogQuery {
  namespace?: string;
  module?: string;
  route?: string;
  /** this level and above */
  level?: 'debug' | 'info' | 'warn' | 'error';
  /** an RFC 3339 time or a duration back from now ("10m") */
  since?: string;
  /** the newest N lines (the server's default is 100, its maximum 10000); with follow, the backlog */
  limit?: number;
  /** only lines after this seq */
  after?: number;
}

/** `GET /api/v1/logs`: the lines, oldest first, and lines dropped per module since the node started. */
export interface ModuleLogPage {
  lines: ModuleLogLine[];
  dropped: Array<{ namespace: string; module: string | null; dropped: number }>;
}

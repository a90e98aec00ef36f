/**
 * The gateway's start-up configuration, as the rest of the code sees it: camelCase fields,
 * every default filled in, deep-frozen. It is built from DGate's config file keys by
 * schema.ts (the key table, with defaults and descriptions, is in keys.ts); load.ts finds and
 * reads the file.
 *
 * Durations are milliseconds here (fields end in `Ms`); in the file they are Go duration
 * strings ("1.5s") or integer nanoseconds.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const RUNTIMES = ['auto', 'node', 'bun'] as const;
export type RuntimeChoice = (typeof RUNTIMES)[number];
/** `proxy.bun_listener`: the server of the plain port's HTTP/1.1 on Bun (Node always uses node:http). */
export const BUN_LISTENERS = ['auto', 'bun_serve', 'node_http'] as const;
export type BunListenerChoice = (typeof BUN_LISTENERS)[number];

export const STORAGE_TYPES = ['memory', 'file', 'etcd'] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];

export const AUTH_METHODS = ['none', 'basic', 'key'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export interface Config {
  /** `version`: free text, null when absent. */
  readonly version: string | null;
  readonly logLevel: LogLevel;
  /** `runtime`: which JavaScript runtime dgate-server runs on (auto: Bun when installed). */
  readonly runtime: RuntimeChoice;
  /** This node's id (logs, cluster view): `node_id`, else env DGATE_NODE_ID, else the host name. */
  readonly nodeId: string;
  /** Verbose error bodies: an admin request refused by the allow list names its address (init_resources and test_server apply regardless). */
  readonly debug: boolean;
  /** Node tags (`tags`): shown in the cluster view and the start-up log line. */
  readonly tags: readonly string[];
  readonly disableDefaultNamespace: boolean;
  /** `disable_metrics`: nothing subscribes to the request-path channels; /metrics and /api/v1/stats answer 404 */
  readonly disableMetrics: boolean;
  readonly storage: StorageConfig;
  readonly proxy: ProxyConfig;
  readonly admin: AdminConfig;
  /** The debug echo upstream; null when there is no `test_server` section. */
  readonly testServer: TestServerConfig | null;
  /** Absolute path of the config file that was read; null when running on built-in defaults. */
  readonly file: string | null;
}

export interface StorageConfig {
  readonly type: StorageType;
  /** Absolute directory (a relative `storage.dir` is resolved against the working directory). */
  readonly dir: string;
  /** How many revisions of change history are kept (`storage.history`). */
  readonly historyLimit: number;
  /** etcd endpoints (for the etcd store). */
  readonly endpoints: readonly string[];
  /** etcd key prefix (`storage.prefix`, default `/dgate/`). */
  readonly prefix: string;
  readonly username: string | null;
  readonly password: string | null;
  /** etcd TLS files, absolute; null when `storage.tls` is absent. */
  readonly tls: EtcdTlsConfig | null;
  readonly dialTimeoutMs: number;
  /** Deadline of every etcd request. */
  readonly requestTimeoutMs: number;
}

export interface EtcdTlsConfig {
  readonly caFile: string | null;
  readonly certFile: string | null;
  readonly keyFile: string | null;
}

/** proxy.tls / admin.tls. */
export interface ListenerTlsConfig {
  readonly port: number;
  /** absolute; null with auto_generate (then the certificate lives under storage.dir/tls/) */
  readonly certFile: string | null;
  readonly keyFile: string | null;
  /** create a self-signed certificate (once, kept) when the files do not exist */
  readonly autoGenerate: boolean;
}

export interface ProxyConfig {
  readonly host: string;
  readonly port: number;
  /** the HTTPS listener; null when `proxy.tls` is absent */
  readonly tls: ListenerTlsConfig | null;
  /** Proxy worker processes; 0 = serve the proxy inside the main process. */
  readonly workers: number;
  readonly globalHeaders: Readonly<Record<string, string>>;
  readonly allowedDomains: readonly string[];
  readonly redirectHttps: readonly string[];
  readonly strictMode: boolean;
  /** Time budget of one asynchronous module function call (`module_timeout`). */
  readonly moduleTimeoutMs: number;
  /** Stuck-worker detection (`module_watchdog`); 0 = off. */
  readonly moduleWatchdogMs: number;
  readonly disableXForwardedHeaders: boolean;
  /** Level filter for module console output; defaults to `logLevel`. */
  readonly consoleLogLevel: LogLevel;
  /** `request_id`: X-Request-Id kept or set, sent upstream and returned on every answer. */
  readonly requestId: { readonly enabled: boolean };
  /** `tracing`: W3C trace context. */
  readonly tracing: { readonly startTraceparent: boolean };
  readonly accessLog: AccessLogConfig;
  /** `module_logs`: module log lines kept for the admin API (GET /api/v1/logs). */
  readonly moduleLogs: ModuleLogsConfig;
  readonly clientTransport: ClientTransportConfig;
  readonly websocket: WebSocketConfig;
  /** Request head limit, bytes (request line and header lines): larger → 431. */
  readonly maxHeaderBytes: number;
  /** Request target limit, bytes: longer → 414. */
  readonly maxUrlBytes: number;
  /** Request body limit, bytes, unless a route sets maxBodyBytes: larger → 413; 0 = none. */
  readonly maxBodyBytes: number;
  /** Time to receive a request head (> 0). */
  readonly readHeaderTimeoutMs: number;
  /** Time to receive a whole request, body included; 0 = none. */
  readonly readTimeoutMs: number;
  /** Keep-alive idle time between requests; 0 = none. */
  readonly idleTimeoutMs: number;
  /** Client connections per proxy process; 0 = no limit. */
  readonly maxConnections: number;
  /** `bun_listener`: on Bun, Bun.serve or Bun's node:http on the plain port (auto: by the limits above). */
  readonly bunListener: BunListenerChoice;
  readonly initResources: InitResources;
  /** `enable_http2`: h2 (ALPN) on the TLS listener. */
  readonly enableHttp2: boolean;
  /** `enable_h2c`: cleartext HTTP/2 with prior knowledge on the plain port (needs enableHttp2). */
  readonly enableH2c: boolean;
  readonly http2: Http2Config;
}

/** Limits of HTTP/2 client connections (`proxy.http2`). */
export interface Http2Config {
  readonly maxConcurrentStreams: number;
  /** bytes of one request's header list */
  readonly maxHeaderListSize: number;
  /** client stream resets allowed within resetWindowMs before GOAWAY */
  readonly resetLimit: number;
  readonly resetWindowMs: number;
}

/** `proxy.access_log`: one JSON line per request (off by default). */
export interface AccessLogConfig {
  readonly enabled: boolean;
  /** 0..1: share of requests logged, drawn per request */
  readonly sampleRate: number;
  /** absolute path the lines are appended to; null = stdout */
  readonly file: string | null;
}

export interface WebSocketConfig {
  /** A tunnel idle this long in both directions is closed (1001); 0 = never. */
  readonly idleTimeoutMs: number;
  /** Largest message relayed where the gateway reads messages (Bun). */
  readonly maxMessageSize: number;
}

export interface ModuleLogsConfig {
  /** Newest lines kept per module on the node; 0 = module lines are not collected. */
  readonly bufferLines: number;
  /** Lines per second one module may log in one proxy process (bursts up to this many). */
  readonly rateLimit: number;
  /** Longer lines are cut to this many characters. */
  readonly maxLineLength: number;
}

export interface ClientTransportConfig {
  /** Upstream connect timeout; 0 = none. */
  readonly dialTimeoutMs: number;
  /** Time allowed for the upstream's response headers; 0 = none. */
  readonly responseHeaderTimeoutMs: number;
  /** How long an idle upstream connection is kept; 0 = no limit. */
  readonly idleConnTimeoutMs: number;
  /** 0 = unlimited. */
  readonly maxConnsPerHost: number;
  /** TCP keep-alive on upstream sockets: idle time before the first probe; 0 = undici's default (60 s). */
  readonly keepAliveMs: number;
  readonly disableKeepAlives: boolean;
  /** Refuse loopback/private upstream addresses (DGate §3.7). */
  readonly disablePrivateIps: boolean;
}

/** An init_resources item, exactly as written in the file (after substitution); the gateway validates it. */
export type ResourceItem = Readonly<Record<string, unknown>>;

/**
 * Resources applied at every start, in dependency order; only what differs from the stored state
 * is written (as one ordinary change batch). Module items have `payload_file` already replaced by the file's text in `payload`.
 */
export interface InitResources {
  readonly namespaces: readonly ResourceItem[];
  readonly services: readonly ResourceItem[];
  readonly routes: readonly ResourceItem[];
  readonly modules: readonly ResourceItem[];
  readonly domains: readonly ResourceItem[];
  readonly collections: readonly ResourceItem[];
  readonly documents: readonly ResourceItem[];
  readonly secrets: readonly ResourceItem[];
}

export interface AdminConfig {
  readonly host: string;
  readonly port: number;
  /** the HTTPS admin listener; null when `admin.tls` is absent */
  readonly tls: ListenerTlsConfig | null;
  /** CIDRs or single IPv4/IPv6 addresses (validated); empty = no IP check. */
  readonly allowList: readonly string[];
  /** ≤ 0: the socket peer is the client IP; d > 0: the d-th X-Forwarded-For line from the end. */
  readonly xForwardedForDepth: number;
  readonly authMethod: AuthMethod;
  /** Non-empty when authMethod is "basic". */
  readonly basicAuth: { readonly users: readonly BasicAuthUser[] };
  readonly keyAuth: KeyAuthConfig;
  /** `watch_only`: admin writes are refused (403 DG_ERR_WATCH_ONLY); reads and the proxy work. */
  readonly watchOnly: boolean;
  /** `advertise_address`: this node's admin URL in the cluster view; null = `http://<host>:<listening port>`. */
  readonly advertiseAddress: string | null;
}

export interface BasicAuthUser {
  readonly username: string;
  readonly password: string;
}

/**
 * Admin API keys. DGate checks them whenever `keys` is non-empty, whatever the auth method;
 * `keys` is non-empty when authMethod is "key". The key is read from the query parameter
 * `queryParamName` when that is set, otherwise from the header `headerName`.
 */
export interface KeyAuthConfig {
  readonly keys: readonly string[];
  /** Defaults to "X-DGate-Key". */
  readonly headerName: string;
  readonly queryParamName: string | null;
}

export interface TestServerConfig {
  readonly host: string;
  readonly port: number;
  readonly globalHeaders: Readonly<Record<string, string>>;
}

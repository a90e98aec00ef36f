/**
 * The one table of config file keys: DGate's key names, their type, default and meaning.
 * schema.ts validates a parsed file against it and builds the Config (config.ts) from it;
 * `flattenKeys()` lists it row by row for documentation.
 *
 * Config field names are derived from the key: snake_case → camelCase, plus "Ms" for
 * durations (`dial_timeout` → `dialTimeoutMs`), unless the entry sets `field`.
 */
import { availableParallelism, hostname } from 'node:os';
import { AUTH_METHODS, LOG_LEVELS, RUNTIMES, STORAGE_TYPES } from './config.js';
import { isIpOrCidr } from './ip.js';
import { LISTENER_LIMIT_KEYS } from './listener-keys.js';
import { MODULE_LOG_DEFAULTS } from '../observability/module-log-record.js';

/** What a computed default may look at. */
export interface DefaultContext {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

type Default<T> = T | ((ctx: DefaultContext) => T);

interface BaseSpec {
  /** One line for the docs page. */
  readonly doc: string;
  /** Config field name when the derived camelCase name does not fit. */
  readonly field?: string;
  /** Shown in docs instead of `default` (for computed defaults). */
  readonly defaultDoc?: string;
  /** Must be present (used inside optional sections and list items). */
  readonly required?: boolean;
}

export interface StringSpec extends BaseSpec {
  readonly kind: 'string';
  readonly default?: Default<string | null>;
  readonly enum?: readonly string[];
  /** Values DGate knows that this version refuses with "not supported yet". */
  readonly unsupportedValues?: readonly string[];
  readonly nonEmpty?: boolean;
}
export interface IntSpec extends BaseSpec {
  readonly kind: 'int';
  readonly default?: Default<number>;
  readonly min?: number;
  readonly max?: number;
}
/** A decimal number (e.g. a ratio). */
export interface NumberSpec extends BaseSpec {
  readonly kind: 'number';
  readonly default?: number;
  readonly min?: number;
  readonly max?: number;
}
export interface BoolSpec extends BaseSpec {
  readonly kind: 'bool';
  readonly default?: boolean;
}
/** Integer nanoseconds or a Go duration string in the file; milliseconds in the Config. */
export interface DurationSpec extends BaseSpec {
  readonly kind: 'duration';
  /** In milliseconds. */
  readonly default?: number;
}
export interface StringListSpec extends BaseSpec {
  readonly kind: 'stringList';
  /** Returns a problem description for a bad item, or null. */
  readonly itemCheck?: (item: string) => string | null;
}
/** A map of string → string (headers). */
export interface StringMapSpec extends BaseSpec {
  readonly kind: 'stringMap';
}
/** A list of maps that are kept as written (init_resources items). */
export interface ObjectListSpec extends BaseSpec {
  readonly kind: 'objectList';
}
export interface SectionSpec extends BaseSpec {
  readonly kind: 'section';
  readonly keys: Readonly<Record<string, KeySpec>>;
  /** Absent section → null in the Config (instead of a section full of defaults). */
  readonly optional?: boolean;
}
/** A list of maps, each validated against `keys`. */
export interface SectionListSpec extends BaseSpec {
  readonly kind: 'sectionList';
  readonly keys: Readonly<Record<string, KeySpec>>;
}
/** A DGate key that is accepted with any value and has no effect here. */
export interface IgnoredSpec extends BaseSpec {
  readonly kind: 'ignored';
}
/**
 * A DGate feature this version lacks: accepted only when absent, false or empty (or a value
 * `accepts` allows); otherwise start-up stops with `message` (default "not supported yet").
 */
export interface UnsupportedSpec extends BaseSpec {
  readonly kind: 'unsupported';
  /** What the refusal says instead of "not supported yet" (e.g. what to configure instead). */
  readonly message?: string;
  /** true: refused whatever its value (only an absent key passes). */
  readonly refuseAnyValue?: boolean;
  /** A value besides the empty ones that means "off" (e.g. a depth of 0). */
  readonly accepts?: (value: unknown) => boolean;
}

export type KeySpec =
  | StringSpec
  | IntSpec
  | NumberSpec
  | BoolSpec
  | DurationSpec
  | StringListSpec
  | StringMapSpec
  | ObjectListSpec
  | SectionSpec
  | SectionListSpec
  | IgnoredSpec
  | UnsupportedSpec;

const PORT = { min: 0, max: 65535 } as const;

/** proxy.tls and admin.tls: an HTTPS listener and its certificate. */
const listenerTls = (what: string): SectionSpec => ({
  kind: 'section',
  optional: true,
  doc: `${what} (TLS 1.2 and later)`,
  keys: {
    port: { kind: 'int', ...PORT, required: true, doc: 'HTTPS listen port (on the same host as the plain listener)' },
    cert_file: { kind: 'string', default: null, nonEmpty: true, doc: 'certificate (PEM, chain after it), relative to the working directory' },
    key_file: { kind: 'string', default: null, nonEmpty: true, doc: 'private key of cert_file (PEM)' },
    auto_generate: {
      kind: 'bool',
      default: false,
      doc: 'create a self-signed certificate when none exists: at cert_file/key_file when given, else under storage.dir/tls/; kept across restarts (key file mode 0600)',
    },
  },
});

function etcdEndpointProblem(item: string): string | null {
  let url: URL;
  try {
    url = new URL(item);
  } catch {
    return `expected a URL such as http://127.0.0.1:2379, got ${JSON.stringify(item)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `expected an http:// or https:// URL, got ${JSON.stringify(item)}`;
  if (url.pathname !== '/' || url.search || url.hash || url.username) return `expected scheme://host:port only, got ${JSON.stringify(item)}`;
  return null;
}

const notEmpty = (item: string): string | null => (item === '' ? 'must not be empty' : null);

const initResourceList = (what: string): ObjectListSpec => ({
  kind: 'objectList',
  doc: `${what} applied at every start (only what differs is written); items are validated when applied`,
});

/** DGate client_transport keys that Node's HTTP client has no counterpart for. */
const IGNORED_TRANSPORT_KEYS = [
  'dns_server',
  'dns_prefer_go',
  'dns_timeout',
  'max_idle_conns',
  'max_idle_conns_per_host',
  'force_attempt_http2',
  'disable_compression',
  'tls_handshake_timeout',
  'expect_continue_timeout',
  'max_response_header_bytes',
  'write_buffer_size',
  'read_buffer_size',
  'max_body_bytes',
  'max_conns_per_client',
] as const;

const ignoredTransportKeys = Object.fromEntries(
  IGNORED_TRANSPORT_KEYS.map((k) => [k, { kind: 'ignored', doc: 'DGate (Go transport) setting; accepted and ignored' } as IgnoredSpec]),
);

export const CONFIG_KEYS: SectionSpec = {
  kind: 'section',
  doc: 'DGate config file',
  keys: {
    version: { kind: 'string', default: null, doc: 'free text, e.g. v1 (optional)' },
    log_level: { kind: 'string', enum: LOG_LEVELS, default: 'info', doc: 'minimum level of server log lines' },
    runtime: { kind: 'string', enum: RUNTIMES, default: 'auto', doc: 'JavaScript runtime of dgate-server: bun, node, or auto (Bun when the bun package is installed); --runtime overrides it' },
    log_json: { kind: 'ignored', doc: 'accepted; logs are always JSON lines' },
    log_color: { kind: 'ignored', doc: 'accepted; logs are never coloured' },
    node_id: {
      kind: 'string',
      default: (ctx) => ctx.env['DGATE_NODE_ID'] || hostname(),
      defaultDoc: 'env DGATE_NODE_ID, else the host name',
      doc: 'this node\'s id in logs and in the cluster view; unique among live nodes',
    },
    debug: {
      kind: 'bool',
      default: false,
      doc: 'verbose error bodies: an admin request refused by allow_list names its address (init_resources and test_server apply whatever its value)',
    },
    tags: { kind: 'stringList', doc: 'node tags, shown in GET /api/v1/cluster and the start-up log line' },
    disable_default_namespace: { kind: 'bool', default: false, doc: 'do not create the "default" namespace' },
    disable_metrics: {
      kind: 'bool',
      default: false,
      doc: 'true: no metrics or stats are collected; GET /metrics and GET /api/v1/stats answer 404 (docs/observability.md)',
    },

    storage: {
      kind: 'section',
      doc: 'where resources and their change history are kept',
      keys: {
        type: { kind: 'string', enum: STORAGE_TYPES, default: 'file', doc: 'memory (lost at exit), file or etcd' },
        dir: {
          kind: 'string',
          default: './.dgate',
          nonEmpty: true,
          doc: 'data directory, relative to the working directory: the database for file storage, the local last-known-good snapshot for etcd',
        },
        history: {
          kind: 'int',
          field: 'historyLimit',
          min: 1,
          default: 1000,
          doc: 'revisions of change history kept',
        },
        endpoints: {
          kind: 'stringList',
          itemCheck: etcdEndpointProblem,
          doc: 'etcd client URLs (http://host:port or https://host:port); required for etcd',
        },
        prefix: { kind: 'string', default: '/dgate/', nonEmpty: true, doc: 'etcd: key prefix under which this gateway cluster keeps its data' },
        username: { kind: 'string', default: null, doc: 'etcd: user name (etcd authentication)' },
        password: { kind: 'string', default: null, doc: 'etcd: password of `username`' },
        tls: {
          kind: 'section',
          optional: true,
          doc: 'etcd: TLS files (PEM), relative to the working directory',
          keys: {
            ca_file: { kind: 'string', default: null, nonEmpty: true, doc: 'certificate authority that signed the etcd server certificates (default: the system ones)' },
            cert_file: { kind: 'string', default: null, nonEmpty: true, doc: 'client certificate (with key_file)' },
            key_file: { kind: 'string', default: null, nonEmpty: true, doc: 'private key of cert_file' },
          },
        },
        dial_timeout: { kind: 'duration', default: 2_000, doc: 'etcd: time allowed to reach etcd at start-up' },
        request_timeout: {
          kind: 'duration',
          default: 1_500,
          doc: 'etcd: deadline of each etcd request; an admin write that cannot reach etcd in time fails with 503',
        },
      },
    },

    proxy: {
      kind: 'section',
      doc: 'the proxy listener',
      keys: {
        host: { kind: 'string', default: '0.0.0.0', doc: 'listen address' },
        port: { kind: 'int', ...PORT, default: 8080, doc: 'listen port' },
        workers: {
          kind: 'int',
          min: 0,
          default: () => availableParallelism(),
          defaultDoc: 'number of CPU cores',
          doc: 'proxy worker processes; 0 serves the proxy inside the main process',
        },
        global_headers: { kind: 'stringMap', doc: 'headers added to every proxied response' },
        allowed_domains: { kind: 'stringList', doc: 'host patterns the proxy answers for (empty = all)' },
        redirect_https: { kind: 'stringList', doc: 'host patterns redirected to https' },
        strict_mode: { kind: 'bool', default: false, doc: 'close the connection when no namespace matches' },
        module_timeout: { kind: 'duration', default: 30_000, doc: 'time budget of one asynchronous module function call; exceeded: 504' },
        module_watchdog: {
          kind: 'duration',
          default: 5_000,
          doc: 'a proxy worker whose event loop is stuck this long (e.g. an endless loop in a module) is replaced; 0 = off',
        },
        disable_x_forwarded_headers: {
          kind: 'bool',
          default: false,
          doc: "DGate's inverted flag: X-Forwarded-* headers are added upstream only when true",
        },
        x_forwarded_for_depth: {
          kind: 'unsupported',
          accepts: (v) => v === 0 || (typeof v === 'string' && /^\s*0\s*$/.test(v)),
          message:
            'not supported yet: the proxy takes the connecting address as the client (X-Real-IP); admin.x_forwarded_for_depth sets it for the admin API',
          doc: 'refused unless 0: the proxy takes the connecting address as the client address',
        },
        console_log_level: {
          kind: 'string',
          enum: LOG_LEVELS,
          defaultDoc: 'log_level',
          doc: 'minimum level of module console output',
        },
        ...LISTENER_LIMIT_KEYS,
        enable_console_logger: { kind: 'ignored', doc: 'accepted; module console output is filtered by console_log_level' },
        request_id: {
          kind: 'section',
          doc: 'request ids: X-Request-Id sent upstream, shown to modules (ctx.id), in module and access logs, and returned on every answer',
          keys: {
            enabled: {
              kind: 'bool',
              default: true,
              doc: "keep a client's valid X-Request-Id (1-128 of A-Z a-z 0-9 . _ : + = @ / -), else set a new UUID; false: the header passes untouched and answers carry none",
            },
          },
        },
        tracing: {
          kind: 'section',
          doc: 'W3C trace context: a valid traceparent always passes unchanged; an invalid one is dropped with its tracestate',
          keys: {
            start_traceparent: {
              kind: 'bool',
              default: false,
              doc: 'send a new traceparent (random trace id, sampled) upstream when the request has no valid one',
            },
          },
        },
        access_log: {
          kind: 'section',
          doc: 'one JSON line per proxied request, written by the process that served it',
          keys: {
            enabled: { kind: 'bool', default: false, doc: 'write access log lines' },
            sample_rate: { kind: 'number', min: 0, max: 1, default: 1, doc: 'share of requests logged, decided per request (0.5: about one in two)' },
            file: {
              kind: 'string',
              default: null,
              nonEmpty: true,
              defaultDoc: 'stdout',
              doc: 'file the lines are appended to (relative to the working directory; created if missing); absent: stdout, with the server log',
            },
          },
        },
        websocket: {
          kind: 'section',
          doc: 'WebSocket upgrades tunnelled to upstreams (README "WebSocket")',
          keys: {
            idle_timeout: {
              kind: 'duration',
              default: 300_000,
              doc: 'a tunnel with no frame in either direction for this long is closed with 1001 both ways (0 = never)',
            },
            max_message_size: {
              kind: 'int',
              min: 125,
              default: 16 * 1024 * 1024,
              doc: 'largest message in bytes relayed on Bun, where the gateway reads messages (bigger: closed with 1009); Node relays frames as they are',
            },
          },
        },
        module_logs: {
          kind: 'section',
          doc: 'module console output and uncaught errors kept per module for GET /api/v1/logs and dgate-cli logs',
          keys: {
            buffer_lines: {
              kind: 'int',
              min: 0,
              max: 100_000,
              default: MODULE_LOG_DEFAULTS.bufferLines,
              doc: 'newest lines kept per module on the node (memory: at most this many × max_line_length characters per module); 0 = not collected',
            },
            rate_limit: {
              kind: 'int',
              min: 1,
              default: MODULE_LOG_DEFAULTS.rateLimit,
              doc: 'lines per second one module may log in one proxy process (bursts up to this many); the rest are dropped and counted',
            },
            max_line_length: {
              kind: 'int',
              min: 80,
              max: 1_048_576,
              default: MODULE_LOG_DEFAULTS.maxLineLength,
              doc: 'longer lines are cut to this many characters (saying how many were cut)',
            },
          },
        },
        client_transport: {
          kind: 'section',
          doc: 'connections to upstream services',
          keys: {
            dial_timeout: { kind: 'duration', default: 10_000, doc: 'connect timeout (0 = none)' },
            response_header_timeout: { kind: 'duration', default: 0, doc: 'wait for response headers (0 = none)' },
            idle_conn_timeout: { kind: 'duration', default: 90_000, doc: 'idle keep-alive connection lifetime (0 = no limit)' },
            max_conns_per_host: { kind: 'int', min: 0, default: 0, doc: 'connections per upstream host (0 = unlimited)' },
            keep_alive: {
              kind: 'duration',
              default: 30_000,
              doc: 'TCP keep-alive on upstream connections: idle time before the first probe (0 = 60s, undici default)',
            },
            disable_keep_alives: { kind: 'bool', default: false, doc: 'one connection per upstream request' },
            disable_private_ips: { kind: 'bool', default: false, doc: 'refuse loopback and private upstream addresses' },
            ...ignoredTransportKeys,
          },
        },
        init_resources: {
          kind: 'section',
          doc: 'resources applied idempotently at every start, in dependency order',
          keys: {
            namespaces: initResourceList('namespaces'),
            services: initResourceList('services'),
            routes: initResourceList('routes'),
            modules: initResourceList('modules (payload_file is read relative to the config file)'),
            domains: initResourceList('domains'),
            collections: initResourceList('collections'),
            documents: initResourceList('documents'),
            secrets: initResourceList('secrets'),
            skip_validation: {
              kind: 'unsupported',
              message: 'not supported: every resource is always validated (remove it or set it to false)',
              doc: 'refused when true: every resource is always validated',
            },
          },
        },
        tls: listenerTls('HTTPS proxy listener beside the plain one; domains with cert/key serve their certificate by SNI'),
        enable_http2: { kind: 'bool', default: false, doc: 'HTTP/2 on the proxy: h2 over TLS (ALPN, HTTP/1.1 fallback) on the TLS listener' },
        enable_h2c: {
          kind: 'bool',
          default: false,
          doc: 'cleartext HTTP/2 with prior knowledge on the plain port, next to HTTP/1.1 (requires enable_http2)',
        },
        http2: {
          kind: 'section',
          doc: 'limits of HTTP/2 client connections',
          keys: {
            max_concurrent_streams: { kind: 'int', min: 1, max: 10_000, default: 100, doc: 'streams a client may have open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS)' },
            max_header_list_size: {
              kind: 'int',
              min: 1024,
              max: 1_048_576,
              default: 32_768,
              doc: 'bytes of one request header list (HEADERS plus CONTINUATION frames, names and values); beyond it the stream is refused',
            },
            reset_limit: {
              kind: 'int',
              min: 1,
              default: 200,
              doc: 'streams a client may cancel (RST_STREAM) within reset_window before its connection is closed with GOAWAY ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487)',
            },
            reset_window: { kind: 'duration', default: 10_000, doc: 'the window reset_limit counts in' },
          },
        },
      },
    },

    admin: {
      kind: 'section',
      doc: 'the admin API listener',
      keys: {
        host: { kind: 'string', default: '127.0.0.1', doc: 'listen address' },
        port: { kind: 'int', ...PORT, default: 9080, doc: 'listen port' },
        allow_list: {
          kind: 'stringList',
          itemCheck: (item) => (isIpOrCidr(item) ? null : `not an IP address or CIDR: ${JSON.stringify(item)}`),
          doc: 'client IPs or CIDRs allowed (empty = all)',
        },
        x_forwarded_for_depth: {
          kind: 'int',
          default: -1,
          doc: 'X-Forwarded-For line (from the end) taken as client IP; <= 0 uses the socket address',
        },
        auth_method: {
          kind: 'string',
          enum: AUTH_METHODS,
          unsupportedValues: ['jwt'],
          default: 'none',
          doc: 'none, basic or key',
        },
        basic_auth: {
          kind: 'section',
          doc: 'credentials for auth_method basic',
          keys: {
            users: {
              kind: 'sectionList',
              doc: 'accepted users (required for auth_method basic)',
              keys: {
                username: { kind: 'string', required: true, nonEmpty: true, doc: 'user name' },
                password: { kind: 'string', required: true, nonEmpty: true, doc: 'password' },
              },
            },
          },
        },
        key_auth: {
          kind: 'section',
          doc: 'API keys; checked whenever keys is non-empty',
          keys: {
            keys: { kind: 'stringList', itemCheck: notEmpty, doc: 'accepted keys (required for auth_method key)' },
            header_name: {
              kind: 'string',
              default: 'X-DGate-Key',
              nonEmpty: true,
              doc: 'header carrying the key (not with query_param_name)',
            },
            query_param_name: {
              kind: 'string',
              default: null,
              nonEmpty: true,
              doc: 'query parameter carrying the key instead of a header',
            },
          },
        },
        tls: listenerTls('HTTPS admin listener beside the plain one'),
        replication: {
          kind: 'unsupported',
          doc: "DGate's Raft replication; refused: clusters share state through etcd",
          message:
            'Raft replication is not used here: clusters share state through etcd; set storage.type: etcd and storage.endpoints on every node (and remove admin.replication)',
        },
        watch_only: {
          kind: 'bool',
          default: false,
          doc: 'read-only node: serves the proxy and admin reads, refuses admin writes with 403 DG_ERR_WATCH_ONLY',
        },
        advertise_address: {
          kind: 'string',
          default: null,
          nonEmpty: true,
          defaultDoc: 'http://<admin.host>:<admin.port>',
          doc: 'admin API URL other nodes and operators reach this node at (shown in GET /api/v1/cluster)',
        },
        jwt_auth: { kind: 'unsupported', doc: 'JWT authentication' },
        dashboard: { kind: 'unsupported', doc: 'admin dashboard' },
      },
    },

    test_server: {
      kind: 'section',
      optional: true,
      doc: 'debug echo upstream; absent = none',
      keys: {
        host: { kind: 'string', default: '127.0.0.1', doc: 'listen address' },
        port: { kind: 'int', ...PORT, required: true, doc: 'listen port' },
        global_headers: { kind: 'stringMap', doc: 'headers added to every echo response' },
        enable_env_vars: { kind: 'ignored', doc: 'accepted; the environment is never echoed' },
        enable_http2: { kind: 'ignored', doc: 'accepted; the echo server speaks HTTP/1.1' },
        enable_h2c: { kind: 'ignored', doc: 'accepted; the echo server speaks HTTP/1.1' },
      },
    },
  },
};

/** snake_case key → Config field name. */
export function fieldName(key: string, spec: KeySpec): string {
  if (spec.field) return spec.field;
  const camel = key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return spec.kind === 'duration' ? `${camel}Ms` : camel;
}

/** One row per key, for documentation. */
export interface KeyRow {
  readonly path: string;
  readonly kind: KeySpec['kind'];
  readonly default: string;
  readonly doc: string;
}

export function flattenKeys(section: SectionSpec = CONFIG_KEYS, prefix = ''): KeyRow[] {
  const rows: KeyRow[] = [];
  for (const [key, spec] of Object.entries(section.keys)) {
    const path = prefix ? `${prefix}.${key}` : key;
    rows.push({ path, kind: spec.kind, default: describeDefault(spec), doc: spec.doc });
    if (spec.kind === 'section') rows.push(...flattenKeys(spec, path));
    if (spec.kind === 'sectionList') rows.push(...flattenKeys({ kind: 'section', doc: spec.doc, keys: spec.keys }, `${path}[]`));
  }
  return rows;
}

function describeDefault(spec: KeySpec): string {
  if (spec.defaultDoc) return spec.defaultDoc;
  if (spec.required) return 'required';
  switch (spec.kind) {
    case 'string':
    case 'int':
    case 'number':
    case 'bool':
      return spec.default === undefined || spec.default === null ? '' : String(spec.default);
    case 'duration':
      return spec.default === undefined ? '' : `${spec.default}ms`;
    case 'stringList':
    case 'objectList':
    case 'sectionList':
      return '[]';
    case 'stringMap':
      return '{}';
    default:
      return '';
  }
}

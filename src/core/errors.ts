/**
 * The one registry of gateway error codes. Every error the gateway raises on purpose is a
 * GatewayError built from an entry here; admin/app.ts is the only place that turns one into
 * an HTTP answer (status from the entry, message from the template).
 */
const kGatewayError = Symbol.for('dgate.error');

export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  /** The input field the error is about, when there is one (e.g. "urls[0]"). */
  readonly field: string | undefined;
  readonly [kGatewayError] = true;

  constructor(code: string, status: number, message: string, field?: string) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.status = status;
    this.field = field;
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[kGatewayError] === true;
  }
}

export interface ErrorFactory {
  readonly code: string;
  readonly status: number;
  (...args: Array<string | number>): GatewayError;
}

function format(template: string, args: Array<string | number>): string {
  let i = 0;
  return template.replace(/%s/g, () => String(args[i++] ?? ''));
}

/** Defines one error kind: `defineError('DG_ERR_X', 404, 'route %s not found')`. */
export function defineError(code: string, status: number, template: string): ErrorFactory {
  const make = ((...args: Array<string | number>) => new GatewayError(code, status, format(template, args))) as ErrorFactory;
  Object.defineProperty(make, 'code', { value: code });
  Object.defineProperty(make, 'status', { value: status });
  return make;
}

/** Validation failure about one field: 400 with a message naming the field. */
export function invalidField(field: string, problem: string): GatewayError {
  return new GatewayError('DG_ERR_VALIDATION', 400, `${field}: ${problem}`, field);
}

export const Errors = {
  VALIDATION: defineError('DG_ERR_VALIDATION', 400, '%s'),
  BAD_JSON: defineError('DG_ERR_BAD_JSON', 400, 'error unmarshalling body: %s'),
  NAMESPACE_REQUIRED: defineError('DG_ERR_NAMESPACE_REQUIRED', 400, 'namespace is required'),
  NOT_FOUND: defineError('DG_ERR_NOT_FOUND', 404, '%s not found: %s'),
  REFERENCE_MISSING: defineError('DG_ERR_REFERENCE_MISSING', 422, '%s not found: %s'),
  STILL_REFERENCED: defineError('DG_ERR_STILL_REFERENCED', 409, 'cannot delete %s: %s: still referenced by %s'),
  COLLECTION_PRIVATE: defineError('DG_ERR_COLLECTION_PRIVATE', 403, 'collection is private'),
  DOCUMENT_INVALID: defineError('DG_ERR_DOCUMENT_INVALID', 422, 'document does not match the schema of collection %s: %s'),
  REVISION_CONFLICT: defineError('DG_ERR_REVISION_CONFLICT', 409, 'state changed concurrently (expected revision %s, store is at %s)'),
  UNAUTHORIZED: defineError('DG_ERR_UNAUTHORIZED', 401, 'Unauthorized'),
  /** An address outside admin.allow_list, as answered when `debug` is set (otherwise UNAUTHORIZED). */
  IP_NOT_ALLOWED: defineError('DG_ERR_IP_NOT_ALLOWED', 401, 'Unauthorized IP Address: %s'),
  FORWARDED_FOR_INVALID: defineError('DG_ERR_FORWARDED_FOR_INVALID', 400, 'could not parse X-Forwarded-For IP'),
  ADMIN_NOT_FOUND: defineError('DG_ERR_ADMIN_NOT_FOUND', 404, '404 page not found'),
  METHOD_NOT_ALLOWED: defineError('DG_ERR_METHOD_NOT_ALLOWED', 405, 'method not allowed'),
  BODY_TOO_LARGE: defineError('DG_ERR_BODY_TOO_LARGE', 413, 'request body larger than %s bytes'),
  REQUEST_TIMEOUT: defineError('DG_ERR_REQUEST_TIMEOUT', 408, 'request not received within %s ms (proxy.read_timeout)'),
  NOT_READY: defineError('DG_ERR_NOT_READY', 503, 'proxy state not ready'),
  /** An admin write committed, but not every proxy worker applied it within the wait: the client may retry reads. */
  PROPAGATION_TIMEOUT: defineError('DG_ERR_PROPAGATION_TIMEOUT', 504, 'change committed at revision %s but not yet live on every worker'),
  WATCH_ONLY: defineError('DG_ERR_WATCH_ONLY', 403, 'this node is read-only (admin.watch_only: true): send writes to a node without admin.watch_only'),
  CLUSTER_UNAVAILABLE: defineError('DG_ERR_CLUSTER_UNAVAILABLE', 503, 'cluster view unavailable: %s'),
  /** Invalid start-up configuration (file, flags, admin options); dgate-server exits with code 1 on it. */
  CONFIG: defineError('DG_ERR_CONFIG', 400, 'config: %s'),
  /** The upstream did not answer within the service's requestTimeout (the proxy answers 504). */
  UPSTREAM_TIMEOUT: defineError('DG_ERR_UPSTREAM_TIMEOUT', 504, 'upstream did not answer within %s ms'),
  /** An asynchronous module function did not settle within proxy.module_timeout (the proxy answers 504). */
  HOOK_TIMEOUT: defineError('DG_ERR_HOOK_TIMEOUT', 504, 'module function did not finish within %s ms'),
  /** The client went away while module code read its request body (ctx.request().readBody() rejects with it; the request ends as 499). */
  CLIENT_CLOSED: defineError('DG_ERR_CLIENT_CLOSED', 499, 'the client closed the connection before the request body was read'),
  /** The upstream's answer to a WebSocket upgrade was not a usable HTTP answer (the proxy answers 502). */
  WEBSOCKET_HANDSHAKE: defineError('DG_ERR_WEBSOCKET_HANDSHAKE', 502, 'upstream WebSocket handshake failed: %s'),
  /** An upstream resolved to a loopback/private address while proxy.client_transport.disable_private_ips is set (502). */
  PRIVATE_ADDRESS: defineError('DG_ERR_PRIVATE_ADDRESS', 502, 'upstream address %s is private and proxy.client_transport.disable_private_ips is set'),
  MODULE_COMPILE: defineError('DG_ERR_MODULE_COMPILE', 400, 'module %s: %s'),
  MODULE_LINK: defineError('DG_ERR_MODULE_LINK', 400, '%s'),
  STORE: defineError('DG_ERR_STORE', 500, 'store: %s'),
  STORE_UNAVAILABLE: defineError('DG_ERR_STORE_UNAVAILABLE', 503, 'store: etcd is unreachable: %s'),
  /** GET /metrics or /api/v1/stats on a node started with disable_metrics: true. */
  METRICS_DISABLED: defineError('DG_ERR_METRICS_DISABLED', 404, 'metrics and stats are disabled on this node (disable_metrics: true)'),
  INTERNAL: defineError('DG_ERR_INTERNAL', 500, 'internal error'),
} as const;

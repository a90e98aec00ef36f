/**
 * What an AdminClient call can fail with. Each class is branded so `instanceof` also works
 * across duplicated copies of this package (the same trick as core/errors.ts).
 */
import type { ClusterNode } from './types.js';

const kAdminClientError = Symbol.for('dgate.admin-client-error');

abstract class AdminClientError extends Error {
  readonly [kAdminClientError] = true;
}

/** The admin API answered with an error status (4xx/5xx). */
export class AdminApiError extends AdminClientError {
  override readonly name = 'AdminApiError';
  /** HTTP status of the answer */
  readonly status: number;
  /** the server's `error` message (or the body text when the answer was not JSON) */
  readonly serverMessage: string;
  /** the server's `DG_ERR_…` code, when it sent one */
  readonly code: string | undefined;
  readonly method: string;
  readonly url: string;

  constructor(init: { status: number; serverMessage: string; code?: string | undefined; method: string; url: string }) {
    super(`${init.status} error from server: ${init.serverMessage}`);
    this.status = init.status;
    this.serverMessage = init.serverMessage;
    this.code = init.code;
    this.method = init.method;
    this.url = init.url;
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    return isBranded(v) && (v as Error).name === 'AdminApiError';
  }
}

/** The admin API could not be reached at all (refused, DNS, reset, TLS…). */
export class AdminConnectionError extends AdminClientError {
  override readonly name = 'AdminConnectionError';
  /** the admin API's base URL */
  readonly baseUrl: string;
  /** the underlying reason, e.g. "connect ECONNREFUSED 127.0.0.1:9080" */
  readonly reason: string;

  constructor(baseUrl: string, reason: string, cause: unknown) {
    super(`cannot reach the admin API at ${baseUrl}: ${reason}`, { cause });
    this.baseUrl = baseUrl;
    this.reason = reason;
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    return isBranded(v) && (v as Error).name === 'AdminConnectionError';
  }
}

/**
 * The server answered with a redirect and the client was not asked to follow redirects
 * (a clustered DGate sends writes to its leader with a 307), or there were too many of them.
 */
export class AdminRedirectError extends AdminClientError {
  override readonly name = 'AdminRedirectError';
  readonly status: number;
  readonly location: string | null;

  constructor(status: number, location: string | null, message = 'redirect from server; retry with the --follow flag') {
    super(message);
    this.status = status;
    this.location = location;
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    return isBranded(v) && (v as Error).name === 'AdminRedirectError';
  }
}

/** `waitForRevision`: some nodes had not applied the revision when the time was up. */
export class AdminWaitTimeoutError extends AdminClientError {
  override readonly name = 'AdminWaitTimeoutError';
  readonly rev: number;
  /** the nodes below `rev` at the last look */
  readonly lagging: ClusterNode[];

  constructor(rev: number, timeoutMs: number, lagging: ClusterNode[], reason?: string) {
    const names = lagging.map((n) => `${n.id} at rev ${n.rev}${n.error === null ? '' : ` (${n.status}: ${n.error})`}`);
    super(`revision ${rev} not live on every node after ${timeoutMs / 1000}s: ${reason ?? names.join(', ')}`);
    this.rev = rev;
    this.lagging = lagging;
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    return isBranded(v) && (v as Error).name === 'AdminWaitTimeoutError';
  }
}

function isBranded(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[kAdminClientError] === true;
}

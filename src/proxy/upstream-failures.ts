import { Errors } from '../core/errors.js';

/** Methods that may be sent again after a connection failure (RFC 9110 §9.2.2), when there is no body. */
export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Errors where the request never reached the upstream application: safe to retry. */
export const CONNECT_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);

/** Errors answered 504 rather than 502. */
export const TIMEOUT_ERRORS: ReadonlySet<string> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', Errors.UPSTREAM_TIMEOUT.code]);

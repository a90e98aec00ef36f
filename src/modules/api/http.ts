import { types } from 'node:util';
import type { ModuleHost } from '../host.js';

/**
 * `dgate/http`: outgoing HTTP from module code, with WHATWG fetch semantics (Node's fetch) and
 * the standard Response (json/text/arrayBuffer, headers.get, status, ok). The same function is
 * the `fetch` global of module code.
 *
 * Added to the standard options, for DGate compatibility and safety:
 * - `redirects: "follow" | "error" | "manual"` (DGate's key) is `redirect`; `redirect` wins when both are set;
 * - `timeout` (ms): the request is aborted after it. Without `timeout` and without `signal` the
 *   gateway's default (`host.fetchTimeoutMs`; 0 = none) applies, so a stuck upstream cannot hold a
 *   request forever (DGate had no limit). A `signal` given alone is used as is;
 * - `User-Agent: DGate-Client/1.0` is sent unless the caller sets one;
 * - `body` may be an ArrayBuffer or typed array from the module's own realm.
 * HTTP error statuses resolve; network errors, timeouts and aborts reject.
 */
export const name = 'dgate/http';

const USER_AGENT = 'DGate-Client/1.0';
const REDIRECT_MODES: readonly string[] = ['follow', 'error', 'manual'];

export interface FetchOptions extends RequestInit {
  /** DGate's name for `redirect` */
  redirects?: RequestRedirect;
  /** ms until the request is aborted */
  timeout?: number;
}

export type ModuleFetch = (input: string | URL | Request, opts?: FetchOptions) => Promise<Response>;

// Node's own fetch, taken once: module code replacing its `fetch` global does not change this one.
const nodeFetch = globalThis.fetch;

/** A body of bytes from any realm as a view Node's fetch accepts; other bodies pass unchanged. */
function body(value: unknown): unknown {
  if (types.isAnyArrayBuffer(value)) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return value;
}

function signalFor(opts: FetchOptions, defaultTimeoutMs: number): AbortSignal | undefined {
  const { signal, timeout } = opts;
  if (timeout !== undefined && timeout !== null) {
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
      throw new RangeError(`fetch: timeout must be a positive number of milliseconds, got ${String(timeout)}`);
    }
    const limit = AbortSignal.timeout(timeout);
    return signal ? AbortSignal.any([signal, limit]) : limit;
  }
  if (signal) return signal;
  return defaultTimeoutMs > 0 ? AbortSignal.timeout(defaultTimeoutMs) : undefined;
}

/** The fetch module code gets, with the host's default timeout; shared with globals.ts. */
export function createFetch(host: ModuleHost): ModuleFetch {
  return async function fetch(input, opts = {}) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('fetch: options must be an object');
    const { redirects, timeout: _timeout, signal: _signal, headers: givenHeaders, body: givenBody, ...rest } = opts;
    const init: RequestInit = { ...rest };

    const redirect = opts.redirect ?? redirects;
    if (redirect !== undefined) {
      if (!REDIRECT_MODES.includes(redirect)) throw new TypeError(`fetch: redirects must be "follow", "error" or "manual", got ${String(redirect)}`);
      init.redirect = redirect;
    }

    // A Request input carries its own headers: only add the User-Agent when neither sets one.
    const headers = new Headers(givenHeaders ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has('user-agent')) headers.set('user-agent', USER_AGENT);
    init.headers = headers;

    if (givenBody !== undefined) init.body = body(givenBody) as BodyInit | null;
    let signal = signalFor(opts, host.fetchTimeoutMs);
    // init.signal replaces a Request's own signal: keep honouring it alongside the time limit.
    if (signal !== undefined && opts.signal == null && input instanceof Request) signal = AbortSignal.any([input.signal, signal]);
    if (signal !== undefined) init.signal = signal;
    return nodeFetch(input, init);
  };
}

export function create(host: ModuleHost): Record<string, unknown> {
  return { fetch: createFetch(host) };
}

/**
 * Where a proxied request goes upstream: DGate's strip-path / preserve-host rules (§3.5) with the
 * original's bugs fixed — the path always starts with "/", the service URL's query is kept
 * (service query first, then the client's), and the trailing slash of the request is kept
 * (no path cleaning: the upstream sees the client's path as sent).
 */

/** The fixed parts of one service URL, split once when the runtime table is built. */
export interface TargetBase {
  /** e.g. "http://10.0.0.1:8080" */
  origin: string;
  /** host[:port] as written in the service URL: the Host header when the host is not preserved */
  host: string;
  /** path of the service URL without a trailing slash ("" for none or "/") */
  basePath: string;
  /** query of the service URL without "?" ("" for none) */
  baseQuery: string;
}

export function splitTarget(url: string): TargetBase {
  const u = new URL(url);
  let basePath = u.pathname;
  while (basePath.endsWith('/')) basePath = basePath.slice(0, -1);
  return { origin: u.origin, host: u.host, basePath, baseQuery: u.search.slice(1) };
}

/**
 * The request path sent upstream.
 * @param rest the route's catch-all value (params["*"]) when the matched pattern ends in "*", else null
 */
export function upstreamPath(base: TargetBase, requestPath: string, stripPath: boolean, rest: string | null): string {
  if (!stripPath) return base.basePath + requestPath;
  if (rest === null || rest === '') return base.basePath === '' ? '/' : base.basePath;
  return base.basePath + '/' + rest;
}

/** Query string (with "?", or "") sent upstream. */
export function upstreamQuery(base: TargetBase, clientQuery: string, dropClientQuery: boolean): string {
  const client = dropClientQuery ? '' : clientQuery;
  if (base.baseQuery === '') return client === '' ? '' : '?' + client;
  return client === '' ? '?' + base.baseQuery : '?' + base.baseQuery + '&' + client;
}

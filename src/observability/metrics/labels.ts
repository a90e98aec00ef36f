/**
 * Label values that stay bounded whatever clients send: every label of a metric comes from the
 * configuration (namespace, route, service, module, hook) or from a closed set folded here.
 */

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

/** A request method as a label: the standard ones, anything else (a route with methods ["*"] takes any) as "other". */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other';
}

const CLASSES = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** "2xx" … "5xx"; 499 (client went away) is "4xx". */
export function statusClass(status: number): string {
  const c = Math.floor(status / 100);
  return c >= 1 && c <= 5 ? CLASSES[c]! : 'other';
}

/** Distinct values a capped label keeps per scope before the rest becomes "other". */
export const ORIGINS_PER_SERVICE = 16;
export const ERROR_CODES = 32;
export const OTHER = 'other';

/**
 * Keeps at most `limit` distinct values per scope (e.g. upstream origins per service: a module's
 * fetchUpstream may build URLs from the request); later ones fold into "other".
 */
export class CappedLabel {
  readonly #limit: number;
  readonly #seen = new Map<string, Set<string>>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  value(scope: string, value: string): string {
    let set = this.#seen.get(scope);
    if (set === undefined) this.#seen.set(scope, (set = new Set()));
    if (set.has(value)) return value;
    if (set.size >= this.#limit) return OTHER;
    set.add(value);
    return value;
  }
}

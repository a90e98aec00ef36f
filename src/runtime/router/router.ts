import { invalidField } from '../../core/errors.js';
import { byteOrder } from '../../core/state.js';
import { type Endpoint, MethodTable } from './method-table.js';
import { CATCH_ALL_PARAM, parsePattern } from './pattern.js';
import { RouteNode, SLASH, type ParamEdge } from './route-node.js';

export type RouteMatch<T> =
  | { kind: 'found'; value: T; params: Record<string, string> | null; pattern: string }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

const NOT_FOUND: RouteMatch<never> = Object.freeze({ kind: 'not-found' });

/**
 * Matches request paths against route patterns with chi's semantics (the router DGate uses):
 *
 * - `{name}` matches one or more characters up to the next '/' or, inside a segment, up to the
 *   first occurrence of the character that follows it in the pattern (`/{name}.{ext}`);
 * - `{name:regex}` is the same but the value must match the regex entirely;
 * - a final `*` matches the rest of the path, possibly empty, exposed as param `*`;
 * - at every position static text beats regex params, which beat plain params, which beat the
 *   catch-all, whatever the registration order; when a branch fails further down, the next
 *   one is tried;
 * - the path is matched raw (no decoding, no cleaning) and a trailing '/' is significant.
 *
 * Two deliberate differences from chi: a param value is never empty (chi accepts `/a//b` for
 * `/a/{x}/b`), and a regex param never spans a '/' (chi lets one do so when it is followed by
 * another character, as in `/{path:.+}.json`).
 *
 * Lookups walk a radix tree built by `add`, so their cost follows the path length, not the
 * number of routes. `find` keeps param values in per-router scratch arrays; that is safe because
 * it is synchronous and never calls out to other code.
 */
export class PathRouter<T> {
  readonly #root = new RouteNode<T>('');
  /**
   * Endpoint tables of the fully static patterns, by pattern. The tree search follows static
   * children first at every position, so an exact static pattern is always the first match it
   * would find; one Map lookup gives the same answer.
   */
  readonly #staticTables = new Map<string, MethodTable<T>>();
  /**
   * Param values of the branch being explored, in pattern order: the first #valueCount entries
   * (entries past it are stale). A counter, because shrinking an array by setting its length
   * is a slow path in V8.
   */
  readonly #values: string[] = [];
  #valueCount = 0;
  /** Endpoint tables whose path matched but not the method, for the 405 Allow list. */
  readonly #mismatched: MethodTable<T>[] = [];

  /**
   * Registers `value` for `pattern` and `methods` (`['*']` = every method, any string).
   * Re-registering a pattern for a method replaces the earlier value.
   */
  add(pattern: string, methods: readonly string[], value: T, order = ''): void {
    PathRouter.check(pattern, methods);
    const tokens = parsePattern(pattern);
    const names: string[] = [];
    let node = this.#root;
    let catchAll = false;
    for (let k = 0; k < tokens.length; k++) {
      const token = tokens[k]!;
      if (token.kind === 'static') {
        node = node.insertStatic(token.text);
      } else if (token.kind === 'param') {
        const next = tokens[k + 1];
        const tail = next !== undefined && next.kind === 'static' ? next.text.charCodeAt(0) : SLASH;
        node = node.insertParam(token.regex, token.regexSource, tail);
        names.push(token.name);
      } else {
        names.push(CATCH_ALL_PARAM);
        catchAll = true;
      }
    }
    const endpoint: Endpoint<T> = {
      value,
      pattern,
      paramNames: names.length > 0 ? names : null,
      foundResult: names.length > 0 ? null : Object.freeze({ kind: 'found', value, params: null, pattern }),
    };
    let table: MethodTable<T>;
    if (catchAll) table = node.catchAll ??= new MethodTable<T>();
    else table = node.endpoints ??= new MethodTable<T>();
    table.set(methods, endpoint, order);
    if (names.length === 0 && !catchAll) this.#staticTables.set(pattern, table);
  }

  /** Throws the GatewayError `add` would throw for this pattern and methods. */
  static check(pattern: string, methods: readonly string[]): void {
    if (methods.length === 0) throw invalidField('methods', `route pattern '${pattern}' has no methods`);
    parsePattern(pattern);
  }

  /**
   * Removes what `add(pattern, …, value)` registered; a registration it hid (same pattern and
   * method, earlier order) answers again. Emptied tree nodes are left in place (they match
   * nothing); rebuild the router from scratch now and then to drop them.
   */
  remove(pattern: string, value: T): void {
    const tokens = parsePattern(pattern);
    let node: RouteNode<T> | null = this.#root;
    let catchAll = false;
    for (let k = 0; k < tokens.length && node !== null; k++) {
      const token = tokens[k]!;
      if (token.kind === 'static') node = node.findStatic(token.text);
      else if (token.kind === 'param') {
        const next = tokens[k + 1];
        const tail = next !== undefined && next.kind === 'static' ? next.text.charCodeAt(0) : SLASH;
        node = node.findParam(token.regex !== null, token.regexSource, tail);
      } else catchAll = true;
    }
    if (node === null) return;
    const table = catchAll ? node.catchAll : node.endpoints;
    if (table === null || !table.remove(value)) return;
    if (catchAll) node.catchAll = null;
    else node.endpoints = null;
    if (this.#staticTables.get(pattern) === table) this.#staticTables.delete(pattern);
  }

  /**
   * Finds the route for `method` and the raw `path` (query string already removed).
   * Param-less matches and misses are shared frozen objects: do not modify them.
   */
  find(method: string, path: string): RouteMatch<T> {
    const staticTable = this.#staticTables.get(path);
    if (staticTable !== undefined) {
      const endpoint = staticTable.get(method);
      if (endpoint !== null) return endpoint.foundResult as RouteMatch<T>;
      // Wrong method here; a param route may still take it, so search the tree.
    }
    const mismatched = this.#mismatched;
    if (mismatched.length !== 0) mismatched.length = 0;
    this.#valueCount = 0;

    const endpoint = this.#search(this.#root, path, 0, method);
    if (endpoint !== null) {
      if (endpoint.foundResult !== null) return endpoint.foundResult as RouteMatch<T>;
      const names = endpoint.paramNames!;
      const values = this.#values;
      const params: Record<string, string> = {};
      for (let k = 0; k < names.length; k++) params[names[k]!] = values[k]!;
      return { kind: 'found', value: endpoint.value, params, pattern: endpoint.pattern };
    }
    if (mismatched.length === 0) return NOT_FOUND;
    // Every route whose path matched contributes its methods, as chi does.
    const allow = new Set<string>();
    for (const table of mismatched) table.collectMethods(allow);
    mismatched.length = 0;
    return { kind: 'method-not-allowed', allow: [...allow].sort(byteOrder) };
  }

  #search(node: RouteNode<T>, path: string, i: number, method: string): Endpoint<T> | null {
    const length = path.length;
    if (i === length) {
      const table = node.endpoints;
      if (table !== null) {
        const endpoint = table.get(method);
        if (endpoint !== null) return endpoint;
        this.#mismatched.push(table);
      }
      // Nothing left: static children and params (never empty) cannot match; a catch-all can.
    } else {
      const label = path.charCodeAt(i);
      const labels = node.labels;
      for (let s = 0; s < labels.length; s++) {
        if (labels[s] !== label) continue;
        const child = node.statics[s]!;
        if (path.startsWith(child.prefix, i)) {
          const found = this.#search(child, path, i + child.prefix.length, method);
          if (found !== null) return found;
        }
        break;
      }
      if (node.regexParams.length > 0 || node.plainParams.length > 0) {
        let segmentEnd = path.indexOf('/', i);
        if (segmentEnd < 0) segmentEnd = length;
        if (segmentEnd > i) {
          const found =
            this.#searchParams(node.regexParams, path, i, segmentEnd, method) ??
            this.#searchParams(node.plainParams, path, i, segmentEnd, method);
          if (found !== null) return found;
        }
      }
    }
    const catchAll = node.catchAll;
    if (catchAll !== null) {
      const endpoint = catchAll.get(method);
      if (endpoint !== null) {
        this.#values[this.#valueCount++] = path.slice(i);
        return endpoint;
      }
      this.#mismatched.push(catchAll);
    }
    return null;
  }

  /** Tries each param edge in order; a value ends at the edge's tail and never crosses a '/'. */
  #searchParams(edges: ParamEdge<T>[], path: string, i: number, segmentEnd: number, method: string): Endpoint<T> | null {
    for (let e = 0; e < edges.length; e++) {
      const edge = edges[e]!;
      let end: number;
      if (edge.tail === SLASH) {
        end = segmentEnd;
      } else {
        end = path.indexOf(edge.tailChar, i);
        if (end < 0 || end > segmentEnd) continue;
      }
      if (end === i) continue;
      const value = path.slice(i, end);
      if (edge.regex !== null && !edge.regex.test(value)) continue;
      const slot = this.#valueCount++;
      this.#values[slot] = value;
      const found = this.#search(edge.next, path, end, method);
      if (found !== null) return found;
      this.#valueCount = slot;
    }
    return null;
  }
}

import { MethodTable } from './method-table.js';

export const SLASH = 0x2f;

/**
 * A param leaving a node. The value runs from the current position to the first occurrence of
 * `tail` (the first character of the static text that follows the param in its pattern), or to
 * the next '/' or the end of the path when the param ends its pattern or is followed by '/'.
 * This is chi's rule: the first occurrence wins, later ones are not tried.
 */
export interface ParamEdge<T> {
  /** Anchored regex the value must match, or null for a plain `{name}`. */
  readonly regex: RegExp | null;
  /** Regex source ('' for plain params): params with the same source and tail share an edge. */
  readonly regexSource: string;
  readonly tail: number;
  readonly tailChar: string;
  readonly next: RouteNode<T>;
}

/**
 * A node of the route radix tree. Entering a node consumes its static `prefix`; children are
 * tried in precedence order by the router: static, regex params, plain params, catch-all.
 * Param names are not stored here but on the endpoints, so `/{a}/x` and `/{b}/y` share a node.
 */
export class RouteNode<T> {
  prefix: string;
  /** First character codes of the static children, index-aligned with `statics`. */
  readonly labels: number[] = [];
  readonly statics: RouteNode<T>[] = [];
  readonly regexParams: ParamEdge<T>[] = [];
  readonly plainParams: ParamEdge<T>[] = [];
  /** Endpoints of patterns ending with `*` right at this node. */
  catchAll: MethodTable<T> | null = null;
  /** Endpoints of patterns ending exactly at this node. */
  endpoints: MethodTable<T> | null = null;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Returns the node reached after consuming `text` from here, splitting or creating nodes. */
  insertStatic(text: string): RouteNode<T> {
    let node: RouteNode<T> = this;
    while (text.length > 0) {
      const index = node.labels.indexOf(text.charCodeAt(0));
      if (index < 0) {
        const child = new RouteNode<T>(text);
        node.labels.push(text.charCodeAt(0));
        node.statics.push(child);
        return child;
      }
      let child = node.statics[index]!;
      const common = commonPrefixLength(child.prefix, text);
      if (common < child.prefix.length) {
        // Split: a new node holds the shared part, the old child keeps the rest below it.
        const middle = new RouteNode<T>(child.prefix.slice(0, common));
        child.prefix = child.prefix.slice(common);
        middle.labels.push(child.prefix.charCodeAt(0));
        middle.statics.push(child);
        node.statics[index] = middle;
        child = middle;
      }
      text = text.slice(common);
      node = child;
    }
    return node;
  }

  /** The node reached after consuming exactly `text` from here, or null when no pattern went there. */
  findStatic(text: string): RouteNode<T> | null {
    let node: RouteNode<T> = this;
    while (text.length > 0) {
      const index = node.labels.indexOf(text.charCodeAt(0));
      if (index < 0) return null;
      const child = node.statics[index]!;
      if (!text.startsWith(child.prefix)) return null;
      text = text.slice(child.prefix.length);
      node = child;
    }
    return node;
  }

  /** The node behind the param edge for (regex source, tail), or null. */
  findParam(regex: boolean, regexSource: string, tail: number): RouteNode<T> | null {
    for (const edge of regex ? this.regexParams : this.plainParams) {
      if (edge.regexSource === regexSource && edge.tail === tail) return edge.next;
    }
    return null;
  }

  /** Returns the node reached through the param edge for (regex, tail), creating it if needed. */
  insertParam(regex: RegExp | null, regexSource: string, tail: number): RouteNode<T> {
    const edges = regex === null ? this.plainParams : this.regexParams;
    for (const edge of edges) {
      if (edge.regexSource === regexSource && edge.tail === tail) return edge.next;
    }
    const edge: ParamEdge<T> = { regex, regexSource, tail, tailChar: String.fromCharCode(tail), next: new RouteNode<T>('') };
    // A param that ends at a specific character is more specific than one that takes the whole
    // segment, so '/'-tailed edges go last (chi orders them the same way); otherwise
    // registration order.
    const firstSlash = edges.findIndex((e) => e.tail === SLASH);
    if (tail === SLASH || firstSlash < 0) edges.push(edge);
    else edges.splice(firstSlash, 0, edge);
    return edge.next;
  }
}

function commonPrefixLength(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

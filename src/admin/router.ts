import type { AdminRequest } from './request.js';
import type { Reply } from './reply.js';

export type Handler = (req: AdminRequest) => Promise<Reply> | Reply;

export interface RouteDef {
  method: string;
  /** segments separated by "/"; a segment ":x" captures one (percent-decoded) segment as params.x */
  path: string;
  handler: Handler;
}

export type Match =
  | { found: true; handler: Handler; params: Record<string, string> }
  | { found: false; allow: string[] };

interface Entry {
  segments: string[];
  methods: Map<string, Handler>;
}

/**
 * A small exact-segment router: the admin API has a few dozen fixed paths, so a linear scan
 * over them is enough. Static segments are tried before `:param` ones.
 */
export class Router {
  readonly #entries: Entry[] = [];

  constructor(routes: readonly RouteDef[]) {
    for (const r of routes) {
      let entry = this.#entries.find((e) => e.segments.join('/') === r.path.slice(1));
      if (entry === undefined) {
        entry = { segments: r.path.split('/').slice(1), methods: new Map() };
        this.#entries.push(entry);
      }
      if (entry.methods.has(r.method)) throw new Error(`admin route registered twice: ${r.method} ${r.path}`);
      entry.methods.set(r.method, r.handler);
    }
    const params = (e: Entry) => e.segments.filter((s) => s.startsWith(':')).length;
    this.#entries.sort((a, b) => params(a) - params(b));
  }

  /** The handler for a request; when the path exists for other methods only, those methods (for 405). */
  find(method: string, pathname: string): Match {
    const parts = pathname.split('/').slice(1);
    for (const e of this.#entries) {
      const params = matchSegments(e.segments, parts);
      if (params === null) continue;
      const handler = e.methods.get(method);
      if (handler === undefined) return { found: false, allow: [...e.methods.keys()] };
      return { found: true, handler, params };
    }
    return { found: false, allow: [] };
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const part = parts[i]!;
    if (p.startsWith(':')) {
      if (part === '') return null;
      try {
        params[p.slice(1)] = decodeURIComponent(part);
      } catch {
        return null;
      }
    } else if (p !== part) {
      return null;
    }
  }
  return params;
}

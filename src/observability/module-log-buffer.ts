import { LEVEL_RANK, type ModuleLogLevelName, type ModuleLogLine, type ModuleLogRecord } from './module-log-record.js';

/** Which lines a reader wants; absent fields do not filter. */
export interface ModuleLogFilter {
  readonly namespace?: string;
  readonly module?: string;
  readonly route?: string;
  /** this level and above */
  readonly level?: ModuleLogLevelName;
  /** lines at or after this time (ms since the epoch) */
  readonly since?: number;
  /** lines after this sequence number (an SSE client's Last-Event-ID) */
  readonly after?: number;
}

/** Lines dropped for one module since the node started. */
export interface DroppedCount {
  readonly namespace: string;
  readonly module: string | null;
  readonly dropped: number;
}

/** The node's module log lines as readers see them (the admin API). */
export interface ModuleLogSource {
  /** the newest `limit` lines that pass the filter, oldest first, and the dropped counts of the modules it covers */
  query(filter: ModuleLogFilter, limit: number): { lines: ModuleLogLine[]; dropped: DroppedCount[] };
  /** calls `listener` with every line appended from now on; returns how to stop */
  follow(listener: (line: ModuleLogLine) => void): () => void;
}

/** One module's newest lines, in a fixed-size ring. */
class Ring {
  readonly namespace: string;
  readonly module: string | null;
  readonly #lines: Array<ModuleLogLine | undefined>;
  #next = 0;
  #size = 0;
  dropped = 0;

  constructor(namespace: string, module: string | null, capacity: number) {
    this.namespace = namespace;
    this.module = module;
    this.#lines = new Array<ModuleLogLine | undefined>(capacity);
  }

  push(line: ModuleLogLine): void {
    this.#lines[this.#next] = line;
    this.#next = (this.#next + 1) % this.#lines.length;
    if (this.#size < this.#lines.length) this.#size++;
  }

  /** oldest first */
  *lines(): Iterable<ModuleLogLine> {
    const cap = this.#lines.length;
    for (let i = 0; i < this.#size; i++) yield this.#lines[(this.#next - this.#size + i + cap) % cap]!;
  }
}

/** Modules whose lines are kept at once; past this the module written to least recently is forgotten. */
const MAX_MODULES = 10_000;

/**
 * The module log lines of one node: the newest `linesPerModule` lines of every module (per
 * namespace and module name), whichever proxy process they came from, numbered in the order
 * they arrived. Memory is bounded by linesPerModule × modules × the collector's line length.
 */
export class ModuleLogBuffer implements ModuleLogSource {
  readonly #capacity: number;
  readonly #rings = new Map<string, Ring>();
  readonly #followers = new Set<(line: ModuleLogLine) => void>();
  #seq = 0;

  constructor(linesPerModule: number) {
    this.#capacity = Math.max(1, linesPerModule);
  }

  append(records: readonly ModuleLogRecord[]): void {
    for (const r of records) {
      const line: ModuleLogLine = { ...r, seq: ++this.#seq };
      const ring = this.#ring(r.namespace, r.module);
      ring.push(line);
      if (r.dropped !== undefined) ring.dropped += r.dropped;
      for (const f of this.#followers) {
        try {
          f(line);
        } catch {
          this.#followers.delete(f); // a follower that fails is dropped, the others go on
        }
      }
    }
  }

  #ring(namespace: string, module: string | null): Ring {
    const key = module === null ? namespace : `${namespace}/${module}`;
    let ring = this.#rings.get(key);
    if (ring === undefined) {
      if (this.#rings.size >= MAX_MODULES) this.#rings.delete(this.#rings.keys().next().value!);
      ring = new Ring(namespace, module, this.#capacity);
    } else {
      this.#rings.delete(key); // re-inserted last: the map stays in order of last write
    }
    this.#rings.set(key, ring);
    return ring;
  }

  query(filter: ModuleLogFilter, limit: number): { lines: ModuleLogLine[]; dropped: DroppedCount[] } {
    const lines: ModuleLogLine[] = [];
    const dropped: DroppedCount[] = [];
    for (const ring of this.#rings.values()) {
      if (filter.namespace !== undefined && ring.namespace !== filter.namespace) continue;
      if (filter.module !== undefined && ring.module !== filter.module) continue;
      if (ring.dropped > 0) dropped.push({ namespace: ring.namespace, module: ring.module, dropped: ring.dropped });
      for (const line of ring.lines()) if (matches(line, filter)) lines.push(line);
    }
    lines.sort((a, b) => a.seq - b.seq);
    dropped.sort((a, b) => a.namespace.localeCompare(b.namespace) || (a.module ?? '').localeCompare(b.module ?? ''));
    return { lines: limit < lines.length ? lines.slice(lines.length - limit) : lines, dropped };
  }

  follow(listener: (line: ModuleLogLine) => void): () => void {
    this.#followers.add(listener);
    return () => this.#followers.delete(listener);
  }
}

/**
 * Whether a line passes a filter. A line reporting dropped lines passes the route and level
 * filters: the lines it stands for could have matched them.
 */
export function matches(line: ModuleLogLine, f: ModuleLogFilter): boolean {
  if (f.namespace !== undefined && line.namespace !== f.namespace) return false;
  if (f.module !== undefined && line.module !== f.module) return false;
  if (f.since !== undefined && line.time < f.since) return false;
  if (f.after !== undefined && line.seq <= f.after) return false;
  if (line.dropped !== undefined) return true;
  if (f.route !== undefined && line.route !== f.route) return false;
  if (f.level !== undefined && LEVEL_RANK[line.level] < LEVEL_RANK[f.level]) return false;
  return true;
}

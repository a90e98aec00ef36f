import type { Change } from './change.js';
import type { ItemOf, Kind } from './types.js';
import { KINDS } from './types.js';
import { ItemTable } from './item-table.js';

type ByName = ItemTable;
type ByNamespace = ReadonlyMap<string, ByName>;

/**
 * Sorted views of the (immutable) per-namespace tables, computed on first use and shared by every
 * State holding the same table: a batch copies only the tables it touches, so the sort is paid
 * once per written table, not per read.
 */
const sortedNames = new WeakMap<ByName, { names: string[]; items: unknown[] }>();
const sortedNamespaces = new WeakMap<ByNamespace, string[]>();

function sortedOf(names: ByName): { names: string[]; items: unknown[] } {
  let s = sortedNames.get(names);
  if (s === undefined) {
    const keys = [...names.keys()].sort(byteOrder);
    s = { names: keys, items: keys.map((k) => names.get(k)) };
    sortedNames.set(names, s);
  }
  return s;
}

function namespacesOf(table: ByNamespace): string[] {
  let s = sortedNamespaces.get(table);
  if (s === undefined) {
    s = [...table.keys()].sort(byteOrder);
    sortedNamespaces.set(table, s);
  }
  return s;
}


/** Where two states differ: for each kind, the namespaces whose tables are not the same object. */
export type TableChanges = ReadonlyMap<Kind, ReadonlySet<string>>;

/**
 * An immutable view of the whole gateway state at one revision.
 * applyChanges() returns a new State sharing every untouched (kind, namespace) table.
 */
export class State {
  readonly rev: number;
  readonly #tables: ReadonlyMap<Kind, ByNamespace>;

  private constructor(rev: number, tables: ReadonlyMap<Kind, ByNamespace>) {
    this.rev = rev;
    this.#tables = tables;
  }

  static empty(rev = 0): State {
    return new State(rev, new Map(KINDS.map((k) => [k, new Map()])));
  }

  get<K extends Kind>(kind: K, namespace: string, name: string): ItemOf[K] | undefined {
    return this.#tables.get(kind)!.get(namespace)?.get(name) as ItemOf[K] | undefined;
  }

  has(kind: Kind, namespace: string, name: string): boolean {
    return this.#tables.get(kind)!.get(namespace)?.has(name) ?? false;
  }

  /** Items of a kind, sorted by name (byte order); one namespace or all of them (then by namespace, name). */
  list<K extends Kind>(kind: K, namespace?: string): ItemOf[K][] {
    const table = this.#tables.get(kind)!;
    if (namespace !== undefined) {
      const names = table.get(namespace);
      return names === undefined ? [] : (sortedOf(names).items.slice() as ItemOf[K][]);
    }
    const out: ItemOf[K][] = [];
    for (const ns of namespacesOf(table)) for (const item of sortedOf(table.get(ns)!).items) out.push(item as ItemOf[K]);
    return out;
  }

  /** The items of a kind in one namespace, by name, unsorted (the state's own immutable table: do not cast and modify). */
  table<K extends Kind>(kind: K, namespace: string): ReadonlyMap<string, ItemOf[K]> {
    return (this.#tables.get(kind)!.get(namespace) ?? ItemTable.EMPTY) as unknown as ReadonlyMap<string, ItemOf[K]>;
  }

  /** Documents of one collection, sorted by id (names are `<collection>/<id>`: one range of the sorted index). */
  documents(namespace: string, collection: string): ItemOf['document'][] {
    const names = this.#tables.get('document')!.get(namespace);
    if (names === undefined) return [];
    const sorted = sortedOf(names);
    const prefix = `${collection}/`;
    let lo = 0;
    let hi = sorted.names.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted.names[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    while (end < sorted.names.length && sorted.names[end]!.startsWith(prefix)) end++;
    return sorted.items.slice(lo, end) as ItemOf['document'][];
  }

  /**
   * The (kind, namespace) tables that differ from `previous`, by identity: a state derived from
   * another by applyChanges shares every table no change touched, so this is cheap and exact for
   * related states and reports everything for unrelated ones (e.g. after a reload).
   */
  changedSince(previous: State): TableChanges {
    const out = new Map<Kind, Set<string>>();
    for (const [kind, table] of this.#tables) {
      const before = previous.#tables.get(kind)!;
      if (before === table) continue;
      const set = new Set<string>();
      for (const [ns, names] of table) if (before.get(ns) !== names) set.add(ns);
      for (const ns of before.keys()) if (!table.has(ns)) set.add(ns);
      if (set.size > 0) out.set(kind, set);
    }
    return out;
  }

  /** Every item with its identity (for handing a whole state to another process). */
  *entries(): IterableIterator<{ kind: Kind; namespace: string; name: string; item: unknown }> {
    for (const [kind, table] of this.#tables) {
      for (const [namespace, names] of table) for (const [name, item] of names) yield { kind, namespace, name, item };
    }
  }

  /** Number of items of a kind in a namespace (or in all). */
  count(kind: Kind, namespace?: string): number {
    const table = this.#tables.get(kind)!;
    if (namespace !== undefined) return table.get(namespace)?.size ?? 0;
    let n = 0;
    for (const names of table.values()) n += names.size;
    return n;
  }

  /**
   * Applies a batch without checks (validation happens before a batch is committed) and
   * returns the state at `rev`.
   */
  applyChanges(changes: readonly Change[], rev: number): State {
    // Edits grouped per (kind, namespace) table, in batch order within each.
    const edits = new Map<Kind, Map<string, Array<[string, unknown]>>>();
    for (const c of changes) {
      let byNs = edits.get(c.kind);
      if (byNs === undefined) edits.set(c.kind, (byNs = new Map()));
      let list = byNs.get(c.namespace);
      if (list === undefined) byNs.set(c.namespace, (list = []));
      list.push([c.name, c.op === 'put' ? c.item : undefined]);
    }
    const tables = new Map(this.#tables);
    for (const [kind, byNs] of edits) {
      const kindTable = new Map(tables.get(kind)!);
      for (const [ns, list] of byNs) {
        const names = (kindTable.get(ns) ?? ItemTable.EMPTY).with(list);
        if (names.size === 0) kindTable.delete(ns);
        else kindTable.set(ns, names);
      }
      tables.set(kind, kindTable);
    }
    return new State(rev, tables);
  }

  /** Names of the items of (kind, namespace) that differ from `previous` (by identity; cheap for related states). */
  changedNames(previous: State, kind: Kind, namespace: string): string[] {
    const before = previous.#tables.get(kind)!.get(namespace) ?? ItemTable.EMPTY;
    const after = this.#tables.get(kind)!.get(namespace) ?? ItemTable.EMPTY;
    return before === after ? [] : after.changedNames(before);
  }

  /** Builds a state from stored items. */
  static fromItems(rev: number, items: Iterable<{ kind: Kind; namespace: string; name: string; item: unknown }>): State {
    const changes: Change[] = [];
    for (const it of items) changes.push({ op: 'put', kind: it.kind, namespace: it.namespace, name: it.name, item: it.item } as Change);
    return State.empty(0).applyChanges(changes, rev);
  }
}

export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

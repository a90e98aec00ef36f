/** How many maps a table's items are spread over: a change copies one of them, not the whole table. */
const SHARDS = 32;

type Shard = ReadonlyMap<string, unknown>;

function shardOf(name: string): number {
  // FNV-1a over the UTF-16 code units, folded to a shard index
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

/**
 * The items of one (kind, namespace), by name: an immutable map whose `with` returns a new table
 * sharing every shard the changes do not touch. Writing one item into a table of 10,000 copies
 * about 300 entries instead of 10,000.
 */
export class ItemTable implements ReadonlyMap<string, unknown> {
  static readonly EMPTY = new ItemTable(new Array<Shard | undefined>(SHARDS).fill(undefined), 0);

  readonly size: number;
  readonly #shards: ReadonlyArray<Shard | undefined>;

  private constructor(shards: ReadonlyArray<Shard | undefined>, size: number) {
    this.#shards = shards;
    this.size = size;
  }

  get(name: string): unknown {
    return this.#shards[shardOf(name)]?.get(name);
  }

  has(name: string): boolean {
    return this.#shards[shardOf(name)]?.has(name) ?? false;
  }

  /** A table with `edits` applied in order: an item puts, undefined deletes. */
  with(edits: ReadonlyArray<readonly [name: string, item: unknown]>): ItemTable {
    const shards = [...this.#shards];
    const copied = new Set<number>();
    let size = this.size;
    for (const [name, item] of edits) {
      const i = shardOf(name);
      let shard = shards[i] as Map<string, unknown> | undefined;
      if (!copied.has(i)) {
        shard = new Map(shard ?? []);
        shards[i] = shard;
        copied.add(i);
      }
      const had = shard!.has(name);
      if (item === undefined) {
        if (had) size--;
        shard!.delete(name);
      } else {
        if (!had) size++;
        shard!.set(name, item);
      }
    }
    return new ItemTable(shards, size);
  }

  /**
   * The names whose item differs (by identity) between `previous` and this table, looking only
   * into the shards that are not shared.
   */
  changedNames(previous: ItemTable): string[] {
    const out: string[] = [];
    for (let i = 0; i < SHARDS; i++) {
      const a = previous.#shards[i];
      const b = this.#shards[i];
      if (a === b) continue;
      if (b !== undefined) for (const [name, item] of b) if (a?.get(name) !== item || (item === undefined && !a?.has(name))) out.push(name);
      if (a !== undefined) for (const name of a.keys()) if (b === undefined || !b.has(name)) out.push(name);
    }
    return out;
  }

  *entries(): MapIterator<[string, unknown]> {
    for (const shard of this.#shards) if (shard !== undefined) yield* shard.entries();
  }

  *keys(): MapIterator<string> {
    for (const shard of this.#shards) if (shard !== undefined) yield* shard.keys();
  }

  *values(): MapIterator<unknown> {
    for (const shard of this.#shards) if (shard !== undefined) yield* shard.values();
  }

  [Symbol.iterator](): MapIterator<[string, unknown]> {
    return this.entries();
  }

  forEach(fn: (value: unknown, key: string, map: ReadonlyMap<string, unknown>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

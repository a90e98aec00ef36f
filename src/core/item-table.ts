/**
 * A table's items are spread over maps (shards) of ~16-64 items: a change copies one of them, not
 * the whole table. The number of shards is a power of two that follows the table's size (1 for
 * up to 64 items, 256 for 10,000), so that a small table costs one map and a write into a large
 * one copies few entries (with 32 shards, each route write into 10,000 routes copied ~300 entries:
 * ~20 KB of garbage per write in every process, which Bun left in place for long).
 */
const SHARD_ITEMS_MAX = 64;
/** a table shrinks to fewer shards once it averages fewer items per shard than this */
const SHARD_ITEMS_MIN = 16;
const MAX_SHARDS = 4096;

type Shard = ReadonlyMap<string, unknown>;

function shardOf(name: string, count: number): number {
  if (count === 1) return 0;
  // FNV-1a over the UTF-16 code units, folded to a shard index (count is a power of two)
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & (count - 1);
}

/** shards for a table of `size` items: the fewest that keep them at SHARD_ITEMS_MAX or under */
function shardsFor(size: number): number {
  let n = 1;
  while (n < MAX_SHARDS && size > n * SHARD_ITEMS_MAX) n *= 2;
  return n;
}

/**
 * The items of one (kind, namespace), by name: an immutable map whose `with` returns a new table
 * sharing every shard the changes do not touch. Writing one item into a table of 10,000 copies
 * about 40 entries instead of 10,000.
 */
export class ItemTable implements ReadonlyMap<string, unknown> {
  static readonly EMPTY = new ItemTable([undefined], 0);

  readonly size: number;
  readonly #shards: ReadonlyArray<Shard | undefined>;

  private constructor(shards: ReadonlyArray<Shard | undefined>, size: number) {
    this.#shards = shards;
    this.size = size;
  }

  get(name: string): unknown {
    return this.#shards[shardOf(name, this.#shards.length)]?.get(name);
  }

  has(name: string): boolean {
    return this.#shards[shardOf(name, this.#shards.length)]?.has(name) ?? false;
  }

  /** A table with `edits` applied in order: an item puts, undefined deletes. */
  with(edits: ReadonlyArray<readonly [name: string, item: unknown]>): ItemTable {
    const shards = [...this.#shards];
    const copied = new Set<number>();
    let size = this.size;
    for (const [name, item] of edits) {
      const i = shardOf(name, shards.length);
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
    const want = shardsFor(size);
    if (want > shards.length || (shards.length > 1 && size < shards.length * SHARD_ITEMS_MIN)) return ItemTable.#spread(shards, want, size);
    return new ItemTable(shards, size);
  }

  /** The same items over `count` shards (a table that grew or shrank past its shards' bounds). */
  static #spread(from: ReadonlyArray<Shard | undefined>, count: number, size: number): ItemTable {
    const shards = new Array<Map<string, unknown> | undefined>(count).fill(undefined);
    for (const shard of from) {
      if (shard === undefined) continue;
      for (const [name, item] of shard) {
        const i = shardOf(name, count);
        (shards[i] ??= new Map()).set(name, item);
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
    if (previous.#shards.length !== this.#shards.length) {
      // spread differently: every item is compared
      for (const [name, item] of this) if (previous.get(name) !== item || (item === undefined && !previous.has(name))) out.push(name);
      for (const name of previous.keys()) if (!this.has(name)) out.push(name);
      return out;
    }
    for (let i = 0; i < this.#shards.length; i++) {
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

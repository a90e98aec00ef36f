/**
 * Values found by three strings through nested maps. The request path's labels are strings the
 * process already holds (namespace, route and module names from the config), so such a lookup
 * builds no key and hashes no new string, where a key joined per event costs a concatenation
 * and the hash of the new string (on Bun: ~70-100 ns against ~10 ns per lookup). Used as a cache
 * in front of the maps that own the series; cleared when one of those drops a series.
 */
export class LabelTree<V> {
  readonly #root = new Map<string, Map<string, Map<string, V>>>();

  get(a: string, b: string, c: string): V | undefined {
    return this.#root.get(a)?.get(b)?.get(c);
  }

  set(a: string, b: string, c: string, value: V): void {
    let level1 = this.#root.get(a);
    if (level1 === undefined) this.#root.set(a, (level1 = new Map()));
    let level2 = level1.get(b);
    if (level2 === undefined) level1.set(b, (level2 = new Map()));
    level2.set(c, value);
  }

  clear(): void {
    this.#root.clear();
  }
}

/**
 * Headers as module code sees them (DGate's methods): case-insensitive names, several values
 * per name, the spelling of the first occurrence kept. Built lazily from raw [name, value, ...]
 * lists so that a hook that never looks at headers costs nothing.
 */
export class HeaderMap {
  readonly #entries = new Map<string, { name: string; values: string[] }>();
  /** true once module code changed something */
  changed = false;

  constructor(raw?: readonly string[]) {
    if (raw !== undefined) for (let i = 0; i < raw.length; i += 2) this.#append(raw[i], raw[i + 1]);
  }

  #append(name: string, value: string): void {
    const key = name.toLowerCase();
    const e = this.#entries.get(key);
    if (e === undefined) this.#entries.set(key, { name, values: [value] });
    else e.values.push(value);
  }

  /** first value, or null */
  get(name: string): string | null {
    return this.#entries.get(String(name).toLowerCase())?.values[0] ?? null;
  }
  values(name: string): string[] {
    return [...(this.#entries.get(String(name).toLowerCase())?.values ?? [])];
  }
  has(name: string): boolean {
    return this.#entries.has(String(name).toLowerCase());
  }
  set(name: string, value: unknown): this {
    this.#entries.set(String(name).toLowerCase(), { name: String(name), values: [String(value)] });
    this.changed = true;
    return this;
  }
  add(name: string, value: unknown): this {
    this.#append(String(name), String(value));
    this.changed = true;
    return this;
  }
  del(name: string): this {
    this.changed = this.#entries.delete(String(name).toLowerCase()) || this.changed;
    return this;
  }
  /** alias of del, as the WHATWG Headers name */
  delete(name: string): this {
    return this.del(name);
  }
  clone(): HeaderMap {
    return new HeaderMap(this.flat());
  }
  keys(): string[] {
    return [...this.#entries.values()].map((e) => e.name);
  }
  /** plain object: name → values */
  toJSON(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const e of this.#entries.values()) out[e.name] = [...e.values];
    return out;
  }
  /** [name, value, name, value, ...] */
  flat(): string[] {
    const out: string[] = [];
    for (const e of this.#entries.values()) for (const v of e.values) out.push(e.name, v);
    return out;
  }
  /** flat list without the given lowercase names */
  flatWithout(skip: ReadonlySet<string>): string[] {
    const out: string[] = [];
    for (const [key, e] of this.#entries) if (!skip.has(key)) for (const v of e.values) out.push(e.name, v);
    return out;
  }
}

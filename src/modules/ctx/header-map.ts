/**
 * Headers as module code sees them (DGate's methods): case-insensitive names, several values
 * per name, the spelling of the first occurrence kept.
 *
 * Kept as the raw [name, value, ...] list it was given plus the edits module code made, so that
 * the common uses — reading a header or two, setting one — cost no index of every header:
 * reads scan the short raw list, writes are recorded, and flat() applies them in one pass.
 */
interface Edit {
  name: string;
  values: string[];
}

export class HeaderMap {
  /** the list, or how to make it (made when first read: edits alone do not need it) */
  #raw: readonly string[] | (() => readonly string[]);
  /** lowercase name → replacement values (null: deleted); names absent here are as in #raw */
  readonly #edits = new Map<string, Edit | null>();

  constructor(raw: readonly string[] | (() => readonly string[]) = []) {
    this.#raw = raw;
  }

  #list(): readonly string[] {
    const raw = this.#raw;
    if (typeof raw !== 'function') return raw;
    const list = raw();
    this.#raw = list;
    return list;
  }

  #rawEntry(key: string): Edit | null {
    let found: Edit | null = null;
    const raw = this.#list();
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i].length === key.length && raw[i].toLowerCase() === key) {
        if (found === null) found = { name: raw[i], values: [raw[i + 1]] };
        else found.values.push(raw[i + 1]);
      }
    }
    return found;
  }

  #entry(key: string): Edit | null {
    const edit = this.#edits.get(key);
    return edit === undefined ? this.#rawEntry(key) : edit;
  }

  /** first value, or null */
  get(name: string): string | null {
    return this.#entry(String(name).toLowerCase())?.values[0] ?? null;
  }
  values(name: string): string[] {
    return [...(this.#entry(String(name).toLowerCase())?.values ?? [])];
  }
  has(name: string): boolean {
    return this.#entry(String(name).toLowerCase()) !== null;
  }
  set(name: string, value: unknown): this {
    this.#edits.set(String(name).toLowerCase(), { name: String(name), values: [String(value)] });
    return this;
  }
  add(name: string, value: unknown): this {
    const key = String(name).toLowerCase();
    const current = this.#entry(key);
    this.#edits.set(key, { name: current?.name ?? String(name), values: [...(current?.values ?? []), String(value)] });
    return this;
  }
  del(name: string): this {
    this.#edits.set(String(name).toLowerCase(), null);
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
    const seen = new Map<string, string>();
    const flat = this.flat();
    for (let i = 0; i < flat.length; i += 2) if (!seen.has(flat[i].toLowerCase())) seen.set(flat[i].toLowerCase(), flat[i]);
    return [...seen.values()];
  }
  /** plain object: name → values */
  toJSON(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const names = new Map<string, string>();
    const flat = this.flat();
    for (let i = 0; i < flat.length; i += 2) {
      const key = flat[i].toLowerCase();
      const name = names.get(key) ?? (names.set(key, flat[i]), flat[i]);
      (out[name] ??= []).push(flat[i + 1]);
    }
    return out;
  }
  /**
   * Applies the edits to a fetch Headers that holds the list this map was made from (Bun's
   * upstream answer, sent on as it is): cheaper than a new Headers from flat().
   */
  applyTo(headers: Headers): void {
    for (const [key, edit] of this.#edits) {
      headers.delete(key);
      if (edit !== null) for (const v of edit.values) headers.append(edit.name, v);
    }
  }
  /** the lowercase names module code set, added or deleted */
  editedNames(): IterableIterator<string> {
    return this.#edits.keys();
  }
  /** [name, value, name, value, ...] */
  flat(): string[] {
    return this.flatWithout(null);
  }
  /** flat list without the given lowercase names */
  flatWithout(skip: ReadonlySet<string> | null): string[] {
    const raw = this.#list();
    const edits = this.#edits;
    if (edits.size === 0 && skip === null) return raw.slice();
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i].toLowerCase();
      if (edits.has(key) || (skip !== null && skip.has(key))) continue;
      out.push(raw[i], raw[i + 1]);
    }
    for (const [key, edit] of edits) {
      if (edit === null || (skip !== null && skip.has(key))) continue;
      for (const v of edit.values) out.push(edit.name, v);
    }
    return out;
  }
}

/**
 * Headers as module code sees them (DGate's methods): case-insensitive names, several values
 * per name, the spelling of the first occurrence kept.
 *
 * Kept as the raw [name, value, ...] list it was given plus the edits module code made, so that
 * the common uses — reading a header or two, setting one — cost no index of every header:
 * reads scan the short raw list, writes are recorded, and flat() applies them in one pass.
 * The edits are a short list (made on the first one) rather than a Map: module code sets a few
 * headers per request, and a Map's table costs more to allocate than scanning them.
 */
interface Edit {
  /** the lowercase name */
  key: string;
  name: string;
  /** replacement values; null: deleted */
  values: string[] | null;
}

export class HeaderMap {
  /** the list, or how to make it (made when first read: edits alone do not need it) */
  #raw: readonly string[] | (() => readonly string[]);
  /** one per lowercase name edited, in the order first edited; names absent here are as in #raw */
  #edits: Edit[] | null = null;

  constructor(raw: readonly string[] | (() => readonly string[]) = []) {
    this.#raw = raw;
  }

  /** whether the list was made (a header was read), or is still to be made when first read */
  get listed(): boolean {
    return typeof this.#raw !== 'function';
  }

  #list(): readonly string[] {
    const raw = this.#raw;
    if (typeof raw !== 'function') return raw;
    const list = raw();
    this.#raw = list;
    return list;
  }

  /** the edit of `key`, or undefined */
  #edit(key: string): Edit | undefined {
    const edits = this.#edits;
    if (edits !== null) for (let i = 0; i < edits.length; i++) if (edits[i].key === key) return edits[i];
    return undefined;
  }

  /** records an edit of `key` (replacing an earlier one, which keeps its place) */
  #record(key: string, name: string, values: string[] | null): void {
    const edit = this.#edit(key);
    if (edit !== undefined) {
      edit.name = name;
      edit.values = values;
    } else (this.#edits ??= []).push({ key, name, values });
  }

  /** the name and values `key` has now (null: none) */
  #entry(key: string): { name: string; values: string[] } | null {
    const edit = this.#edit(key);
    if (edit !== undefined) return edit.values === null ? null : (edit as { name: string; values: string[] });
    let found: { name: string; values: string[] } | null = null;
    const raw = this.#list();
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i].length === key.length && raw[i].toLowerCase() === key) {
        if (found === null) found = { name: raw[i], values: [raw[i + 1]] };
        else found.values.push(raw[i + 1]);
      }
    }
    return found;
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
    const n = String(name);
    this.#record(n.toLowerCase(), n, [String(value)]);
    return this;
  }
  add(name: string, value: unknown): this {
    const key = String(name).toLowerCase();
    const current = this.#entry(key);
    this.#record(key, current?.name ?? String(name), [...(current?.values ?? []), String(value)]);
    return this;
  }
  del(name: string): this {
    const n = String(name);
    this.#record(n.toLowerCase(), n, null);
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
    const edits = this.#edits;
    if (edits === null) return;
    for (const edit of edits) {
      headers.delete(edit.key);
      if (edit.values !== null) for (const v of edit.values) headers.append(edit.name, v);
    }
  }
  /** whether module code set, added or deleted one of these lowercase names */
  editsAny(names: ReadonlySet<string>): boolean {
    const edits = this.#edits;
    if (edits !== null) for (const edit of edits) if (names.has(edit.key)) return true;
    return false;
  }
  /** [name, value, name, value, ...] */
  flat(): string[] {
    return this.flatWithout(null);
  }
  /** flat list without the given lowercase names */
  flatWithout(skip: ReadonlySet<string> | null): string[] {
    const raw = this.#list();
    const edits = this.#edits;
    if (edits === null && skip === null) return raw.slice();
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i].toLowerCase();
      if ((edits !== null && this.#edit(key) !== undefined) || (skip !== null && skip.has(key))) continue;
      out.push(raw[i], raw[i + 1]);
    }
    if (edits === null) return out;
    for (const edit of edits) {
      if (edit.values === null || (skip !== null && skip.has(edit.key))) continue;
      for (const v of edit.values) out.push(edit.name, v);
    }
    return out;
  }
}

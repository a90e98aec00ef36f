/** The query string as module code sees it (DGate's methods), over URLSearchParams. */
export class QueryMap {
  readonly #params: URLSearchParams;
  changed = false;

  constructor(query: string) {
    this.#params = new URLSearchParams(query);
  }

  get(name: string): string | null {
    return this.#params.get(String(name));
  }
  values(name: string): string[] {
    return this.#params.getAll(String(name));
  }
  has(name: string): boolean {
    return this.#params.has(String(name));
  }
  set(name: string, value: unknown): this {
    this.#params.set(String(name), String(value));
    this.changed = true;
    return this;
  }
  add(name: string, value: unknown): this {
    this.#params.append(String(name), String(value));
    this.changed = true;
    return this;
  }
  del(name: string): this {
    this.#params.delete(String(name));
    this.changed = true;
    return this;
  }
  delete(name: string): this {
    return this.del(name);
  }
  /** the query string without "?" */
  encode(): string {
    return this.#params.toString();
  }
  toJSON(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const k of new Set(this.#params.keys())) out[k] = this.#params.getAll(k);
    return out;
  }
}

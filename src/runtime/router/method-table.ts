/** What one `add` registered, as seen by a lookup that reaches it. */
export interface Endpoint<T> {
  readonly value: T;
  /** The pattern as given to `add`; callers need it for strip-path. */
  readonly pattern: string;
  /** Param names in pattern order (`*` for the catch-all); null when the pattern has none. */
  readonly paramNames: readonly string[] | null;
  /**
   * For param-less endpoints, the complete (frozen) lookup answer, built once so that
   * matching a static route allocates nothing.
   */
  readonly foundResult: { readonly kind: 'found'; readonly value: T; readonly params: null; readonly pattern: string } | null;
}

/** The method wildcard accepted by `add`. */
export const ANY_METHOD = '*';

interface Registration<T> {
  readonly methods: readonly string[];
  readonly endpoint: Endpoint<T>;
  /** registrations apply in this order (then in the order they were made) */
  readonly order: string;
}

/**
 * The endpoints registered at one point of the route tree, by method. A later registration
 * replaces an earlier one for every method it names; `*` counts as naming every method, so it
 * replaces everything registered before it, and specific methods registered after it win.
 * "Later" is by `order` (the route name, so the later name wins whatever the order of the
 * writes), then by registration. Registrations can be removed, and what they hid shows again.
 */
export class MethodTable<T> {
  #registrations: Registration<T>[] = [];
  readonly #byMethod = new Map<string, Endpoint<T>>();
  #anyMethod: Endpoint<T> | null = null;

  set(methods: readonly string[], endpoint: Endpoint<T>, order = ''): void {
    const regs = this.#registrations;
    let at = regs.length;
    while (at > 0 && regs[at - 1]!.order > order) at--;
    regs.splice(at, 0, { methods, endpoint, order });
    if (at === regs.length - 1) this.#apply(regs[at]!);
    else this.#materialize();
  }

  /** Removes every registration of `value`; true when none is left at all. */
  remove(value: T): boolean {
    const before = this.#registrations.length;
    this.#registrations = this.#registrations.filter((r) => r.endpoint.value !== value);
    if (this.#registrations.length !== before) this.#materialize();
    return this.#registrations.length === 0;
  }

  #materialize(): void {
    this.#byMethod.clear();
    this.#anyMethod = null;
    for (const r of this.#registrations) this.#apply(r);
  }

  #apply(r: Registration<T>): void {
    if (r.methods.includes(ANY_METHOD)) {
      this.#byMethod.clear();
      this.#anyMethod = r.endpoint;
      return;
    }
    for (const method of r.methods) this.#byMethod.set(method, r.endpoint);
  }

  /** Methods are compared exactly (HTTP methods are case-sensitive); HEAD is not implied by GET. */
  get(method: string): Endpoint<T> | null {
    return this.#byMethod.get(method) ?? this.#anyMethod;
  }

  /** Adds the methods this table answers to `into`; only meaningful when it has no `*` endpoint. */
  collectMethods(into: Set<string>): void {
    for (const method of this.#byMethod.keys()) into.add(method);
  }
}

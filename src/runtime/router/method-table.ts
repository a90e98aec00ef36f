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

/**
 * The endpoints registered at one point of the route tree, by method. A later registration
 * replaces an earlier one for every method it names; `*` counts as naming every method, so it
 * replaces everything registered before it, and specific methods registered after it win.
 */
export class MethodTable<T> {
  readonly #byMethod = new Map<string, Endpoint<T>>();
  #anyMethod: Endpoint<T> | null = null;

  set(methods: readonly string[], endpoint: Endpoint<T>): void {
    if (methods.includes(ANY_METHOD)) {
      this.#byMethod.clear();
      this.#anyMethod = endpoint;
      return;
    }
    for (const method of methods) this.#byMethod.set(method, endpoint);
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

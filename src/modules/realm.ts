import vm from 'node:vm';

type ErrorCtor = new (message?: string) => Error;

/**
 * The module context's own Error classes. Errors made by the gateway (built-ins, hook
 * failures handed to errorHandler) are re-made with them, so that `err instanceof Error` and
 * `instanceof TypeError` hold in module code, which runs in another realm.
 */
export class Realm {
  readonly #ctors: Record<string, ErrorCtor>;

  constructor(context: vm.Context) {
    this.#ctors = vm.runInContext('({ Error, TypeError, RangeError, SyntaxError, EvalError, URIError })', context) as Record<string, ErrorCtor>;
  }

  /** The same error as one of the context's classes (message, name, stack and own fields kept). */
  error(err: unknown): unknown {
    if (!(err instanceof Error)) return err;
    const Ctor = this.#ctors[err.name] ?? this.#ctors.Error;
    const out = new Ctor(err.message);
    for (const key of Object.keys(err)) (out as unknown as Record<string, unknown>)[key] = (err as unknown as Record<string, unknown>)[key];
    if (err.name !== out.name) Object.defineProperty(out, 'name', { value: err.name, configurable: true, writable: true });
    Object.defineProperty(out, 'stack', { value: err.stack, configurable: true, writable: true });
    if (err.cause !== undefined) (out as Error & { cause?: unknown }).cause = err.cause;
    return out;
  }

  /** A built-in's exports with every function's thrown or rejected errors re-made in this realm. */
  wrapExports(exports: Record<string, unknown>, depth = 0): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(exports)) {
      if (typeof value === 'function') out[key] = this.#wrapFn(value as (...args: unknown[]) => unknown);
      else if (depth === 0 && value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
        out[key] = this.wrapExports(value as Record<string, unknown>, 1);
      } else out[key] = value;
    }
    return out;
  }

  #wrapFn(fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    const realm = this;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      let r: unknown;
      try {
        r = fn.apply(this, args);
      } catch (err) {
        throw realm.error(err);
      }
      if (r instanceof Promise) return r.catch((err: unknown) => Promise.reject(realm.error(err)));
      return r;
    };
    Object.defineProperty(wrapped, 'name', { value: fn.name });
    return wrapped;
  }
}

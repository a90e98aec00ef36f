import { Errors, GatewayError } from '../core/errors.js';
import type { HookFn } from './hooks.js';
import type { HookScope, Watchdog } from './watchdog.js';

/** Whether `err` is the rejection of a hook that did not settle within its time budget (Errors.HOOK_TIMEOUT). */
export function isHookTimeout(err: unknown): boolean {
  return err instanceof GatewayError && err.code === Errors.HOOK_TIMEOUT.code;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * Calls module functions on the request path. A function that returns synchronously costs a
 * plain call (no promise, no timer); one that returns a promise gets the time budget.
 * There is deliberately no node:vm timeout here (it costs far too much per call); endless
 * synchronous loops are the watchdog's business, which is told what runs.
 */
export class HookRunner {
  readonly budgetMs: number;
  readonly #watchdog: Watchdog | null;
  /** asynchronous calls in progress, each with its deadline; one coarse timer checks them all */
  readonly #inflight = new Set<{ deadline: number; reject: (err: Error) => void }>();
  #sweeper: NodeJS.Timeout | null = null;
  /** the route whose module code runs synchronously right now (for console output attribution) */
  active: HookScope | null = null;
  /** the `ctx` of that call (the request whose hook runs), null between calls */
  activeContext: unknown = null;

  constructor(budgetMs: number, watchdog: Watchdog | null = null) {
    this.budgetMs = budgetMs;
    this.#watchdog = watchdog;
  }

  #invoke(scope: HookScope, fn: HookFn, ctx: unknown, arg: unknown): unknown {
    this.active = scope;
    this.activeContext = ctx;
    this.#watchdog?.enter(scope.id);
    try {
      return arg === undefined ? fn(ctx) : fn(ctx, arg);
    } finally {
      this.active = null;
      this.activeContext = null;
      this.#watchdog?.leave();
    }
  }

  /** undefined when fn finished synchronously, else a promise of its result */
  call(scope: HookScope, fn: HookFn, ctx: unknown, arg?: unknown): Promise<unknown> | undefined {
    const r = this.#invoke(scope, fn, ctx, arg);
    return isThenable(r) ? this.#budget(r) : undefined;
  }

  /** calls fn and gives its result, or a promise of it */
  value(scope: HookScope, fn: HookFn, ctx: unknown): unknown {
    const r = this.#invoke(scope, fn, ctx, undefined);
    return isThenable(r) ? this.#budget(r) : r;
  }

  /**
   * Calls fns in order, each after the previous one settled, stopping early when `stop()` turns
   * true (a function answered the request); reports through callbacks instead of a promise (the
   * hot path of requestModifier/responseModifier chains). Synchronous functions cost plain calls;
   * an asynchronous one is waited for on its own promise (no wrapper) under the time budget.
   * Exactly one of onDone/onError is called, once.
   */
  run(scope: HookScope, fns: readonly HookFn[], ctx: unknown, stop: () => boolean, onDone: () => void, onError: (err: unknown) => void): void {
    let i = 0;
    const step = (): void => {
      while (i < fns.length) {
        if (stop()) break;
        let r: unknown;
        try {
          r = this.#invoke(scope, fns[i++]!, ctx, undefined);
        } catch (err) {
          onError(err);
          return;
        }
        if (isThenable(r)) {
          this.#settle(r, step, onError);
          return;
        }
      }
      onDone();
    };
    step();
  }

  #settle(p: PromiseLike<unknown>, onOk: () => void, onErr: (err: unknown) => void): void {
    let settled = false;
    const entry = {
      deadline: performance.now() + this.budgetMs,
      reject: (err: Error) => {
        if (settled) return;
        settled = true;
        onErr(err);
      },
    };
    this.#inflight.add(entry);
    this.#sweeper ??= this.#startSweeper();
    p.then(
      () => {
        if (settled) return;
        settled = true;
        this.#inflight.delete(entry);
        try {
          onOk();
        } catch (err) {
          onErr(err);
        }
      },
      (err) => {
        if (settled) return;
        settled = true;
        this.#inflight.delete(entry);
        onErr(err);
      },
    );
  }

  #budget(p: PromiseLike<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const entry = { deadline: performance.now() + this.budgetMs, reject };
      this.#inflight.add(entry);
      this.#sweeper ??= this.#startSweeper();
      p.then(
        (v) => {
          this.#inflight.delete(entry);
          resolve(v);
        },
        (e) => {
          this.#inflight.delete(entry);
          reject(e);
        },
      );
    });
  }

  /**
   * Rejects the calls past their deadline. Checking a few times per budget keeps a timer out
   * of every call; a call may run up to a quarter of the budget (at most 250 ms) over it.
   */
  #startSweeper(): NodeJS.Timeout {
    const every = Math.max(5, Math.min(250, Math.floor(this.budgetMs / 4)));
    return setInterval(() => {
      const now = performance.now();
      for (const entry of this.#inflight) {
        if (entry.deadline <= now) {
          this.#inflight.delete(entry);
          entry.reject(Errors.HOOK_TIMEOUT(this.budgetMs));
        }
      }
    }, every).unref();
  }
}

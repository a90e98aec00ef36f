import { AsyncLocalStorage } from 'node:async_hooks';
import { Errors, GatewayError } from '../core/errors.js';
import { channels } from '../observability/channels.js';
import type { HookFn } from './hooks.js';
import type { HookOrigin } from './route-hooks.js';
import type { HookScope, Watchdog } from './watchdog.js';

/** What the runner is told about the route a function runs for: the watchdog's scope, plus where each function came from. */
export interface RouteScope extends HookScope {
  readonly hooks: { readonly origins: ReadonlyMap<HookFn, HookOrigin>; readonly set: { readonly logs: boolean } } | null;
}

/**
 * A per-request accumulator of the time spent in module functions, set on the ctx object under
 * this symbol by the proxy while someone observes the request's end (RequestEndEvent.moduleMs).
 */
export const MODULE_TIME = Symbol('dgate.moduleTime');
export interface ModuleTime {
  moduleMs: number;
}

/** The hook call that code runs for: its route and its `ctx` (the request). */
export interface HookCall {
  readonly scope: HookScope;
  readonly ctx: unknown;
}

/** Reports the end of one observed call: failed = threw, rejected or timed out. */
type Finish = (failed: boolean) => void;

/** Whether `err` is the rejection of a hook that did not settle within its time budget (Errors.HOOK_TIMEOUT). */
export function isHookTimeout(err: unknown): boolean {
  return err instanceof GatewayError && err.code === Errors.HOOK_TIMEOUT.code;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

function callHook(fn: HookFn, ctx: unknown, arg: unknown): unknown {
  return arg === undefined ? fn(ctx) : fn(ctx, arg);
}

/** the ctx's module time accumulator (set by the proxy while the request's end is observed) */
function accumulatorOf(ctx: unknown): ModuleTime | undefined {
  return (ctx as { [MODULE_TIME]?: ModuleTime })[MODULE_TIME];
}

/** Reports the end of one call started at `t0`: its time to the accumulator, an event to the hook channel's subscribers. */
function report(scope: RouteScope, fn: HookFn, acc: ModuleTime | undefined, t0: number, failed: boolean): void {
  const durationMs = performance.now() - t0;
  if (acc !== undefined) acc.moduleMs += durationMs;
  if (!channels.hook.hasSubscribers) return;
  const origin = scope.hooks?.origins.get(fn);
  channels.hook.publish({ namespace: scope.namespace, module: origin?.module ?? '', hook: origin?.hook ?? '', route: scope.name, durationMs, failed });
}

/** NaN: the call is not observed (nobody listens); else when it started */
const UNOBSERVED = Number.NaN;

/**
 * When a call starts, if someone listens (the hook channel, or the request's end through the
 * ctx accumulator); UNOBSERVED otherwise, at the cost of a property check and a symbol lookup.
 */
function startOf(acc: ModuleTime | undefined): number {
  return acc === undefined && !channels.hook.hasSubscribers ? UNOBSERVED : performance.now();
}

/** the report of an asynchronous call, as a callback (made only once a call returned a promise) */
function finisherOf(scope: RouteScope, fn: HookFn, acc: ModuleTime | undefined, t0: number): Finish | null {
  return Number.isNaN(t0) ? null : (failed) => report(scope, fn, acc, t0, failed);
}

/**
 * Calls module functions on the request path. A function that returns synchronously costs a
 * plain call (no promise, no timer, no closure); one that returns a promise gets the time budget.
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
  /**
   * The call each hook runs in, carried into whatever it started (awaits, promise callbacks,
   * timers), so that code resumed after the call returned is still told apart by request; for
   * the routes of namespaces whose module code names `console` (ModuleSet.logs).
   */
  readonly #calls = new AsyncLocalStorage<HookCall>();

  constructor(budgetMs: number, watchdog: Watchdog | null = null) {
    this.budgetMs = budgetMs;
    this.#watchdog = watchdog;
  }

  #invoke(scope: RouteScope, fn: HookFn, ctx: unknown, arg: unknown): unknown {
    this.active = scope;
    this.activeContext = ctx;
    this.#watchdog?.enter(scope.id);
    try {
      // Tracked only where module code logs: on Node before 24, AsyncLocalStorage installs a promise
      // hook that makes every promise of the process about three times as costly (an await: ~100 ns
      // → ~300 ns on Node 20); on Bun a tracked call costs ~100 ns more.
      if (scope.hooks?.set.logs === true) return this.#calls.run({ scope, ctx }, callHook, fn, ctx, arg);
      return arg === undefined ? fn(ctx) : fn(ctx, arg);
    } finally {
      this.active = null;
      this.activeContext = null;
      this.#watchdog?.leave();
    }
  }

  /**
   * The hook call whose code runs now: the synchronous part of a call, or code it started that
   * resumed later (after an await, in a promise callback or a timer); null outside any hook call.
   */
  current(): HookCall | null {
    if (this.active !== null) return { scope: this.active, ctx: this.activeContext };
    return this.#calls.getStore() ?? null;
  }

  /** #invoke, reporting a synchronous throw (a call observed since t0) */
  #invokeObserved(scope: RouteScope, fn: HookFn, ctx: unknown, arg: unknown, acc: ModuleTime | undefined, t0: number): unknown {
    if (Number.isNaN(t0)) return this.#invoke(scope, fn, ctx, arg);
    try {
      return this.#invoke(scope, fn, ctx, arg);
    } catch (err) {
      report(scope, fn, acc, t0, true);
      throw err;
    }
  }

  /** undefined when fn finished synchronously, else a promise of its result */
  call(scope: RouteScope, fn: HookFn, ctx: unknown, arg?: unknown): Promise<unknown> | undefined {
    const acc = accumulatorOf(ctx);
    const t0 = startOf(acc);
    const r = this.#invokeObserved(scope, fn, ctx, arg, acc, t0);
    if (isThenable(r)) return this.#budget(r, finisherOf(scope, fn, acc, t0));
    if (!Number.isNaN(t0)) report(scope, fn, acc, t0, false);
    return undefined;
  }

  /** calls fn and gives its result, or a promise of it */
  value(scope: RouteScope, fn: HookFn, ctx: unknown): unknown {
    const acc = accumulatorOf(ctx);
    const t0 = startOf(acc);
    const r = this.#invokeObserved(scope, fn, ctx, undefined, acc, t0);
    if (isThenable(r)) return this.#budget(r, finisherOf(scope, fn, acc, t0));
    if (!Number.isNaN(t0)) report(scope, fn, acc, t0, false);
    return r;
  }

  /**
   * Calls fns in order, each after the previous one settled, stopping early when `stop()` turns
   * true (a function answered the request); reports through callbacks instead of a promise (the
   * hot path of requestModifier/responseModifier chains). Synchronous functions cost plain calls;
   * an asynchronous one is waited for on its own promise (no wrapper) under the time budget.
   * Exactly one of onDone/onError is called, once.
   */
  run(scope: RouteScope, fns: readonly HookFn[], ctx: unknown, stop: () => boolean, onDone: () => void, onError: (err: unknown) => void): void {
    let i = 0;
    const acc = accumulatorOf(ctx);
    const step = (): void => {
      while (i < fns.length) {
        if (stop()) break;
        const fn = fns[i++]!;
        const t0 = startOf(acc);
        let r: unknown;
        try {
          r = this.#invokeObserved(scope, fn, ctx, undefined, acc, t0);
        } catch (err) {
          onError(err);
          return;
        }
        if (isThenable(r)) {
          this.#settle(r, step, onError, finisherOf(scope, fn, acc, t0));
          return;
        }
        if (!Number.isNaN(t0)) report(scope, fn, acc, t0, false);
      }
      onDone();
    };
    step();
  }

  /**
   * run's rules with a value instead of callbacks: calls fns[from..] in order, stopping early
   * when `stop(ctx)` turns true. Returns undefined when they all finished synchronously (then
   * nothing is allocated: no promise, no closure), a promise once one returns a promise (the
   * rest run after it settled, under the time budget). A synchronous throw is thrown.
   */
  chain<C>(scope: RouteScope, fns: readonly HookFn[], ctx: C, stop: (ctx: C) => boolean, from = 0): Promise<void> | undefined {
    const acc = accumulatorOf(ctx);
    for (let i = from; i < fns.length; i++) {
      if (stop(ctx)) return undefined;
      const fn = fns[i]!;
      const t0 = startOf(acc);
      const r = this.#invokeObserved(scope, fn, ctx, undefined, acc, t0);
      if (isThenable(r)) {
        const next = i + 1;
        return new Promise<void>((resolve, reject) => {
          const rest = (): void => {
            const p = this.chain(scope, fns, ctx, stop, next);
            if (p === undefined) resolve();
            else p.then(resolve, reject);
          };
          this.#settle(r, rest, reject, finisherOf(scope, fn, acc, t0));
        });
      }
      if (!Number.isNaN(t0)) report(scope, fn, acc, t0, false);
    }
    return undefined;
  }

  #settle(p: PromiseLike<unknown>, onOk: (value: unknown) => void, onErr: (err: unknown) => void, finish: Finish | null): void {
    let settled = false;
    const entry = {
      deadline: performance.now() + this.budgetMs,
      reject: (err: Error) => {
        if (settled) return;
        settled = true;
        finish?.(true);
        onErr(err);
      },
    };
    this.#inflight.add(entry);
    this.#sweeper ??= this.#startSweeper();
    p.then(
      (value) => {
        if (settled) return;
        settled = true;
        this.#inflight.delete(entry);
        finish?.(false);
        try {
          onOk(value);
        } catch (err) {
          onErr(err);
        }
      },
      (err) => {
        if (settled) return;
        settled = true;
        this.#inflight.delete(entry);
        finish?.(true);
        onErr(err);
      },
    );
  }

  #budget(p: PromiseLike<unknown>, finish: Finish | null): Promise<unknown> {
    return new Promise((resolve, reject) => this.#settle(p, resolve, reject, finish));
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

import { webcrypto } from 'node:crypto';
import { performance as nodePerformance } from 'node:perf_hooks';
import { format } from 'node:util';
import { createFetch } from './api/http.js';
import type { ModuleHost, ModuleLogLevel } from './host.js';
import { moduleInStack } from './stack-module.js';

/**
 * The global scope of module code: `vm.createContext(createGlobals(host))`. One fresh object per
 * context (a context takes over the object it is given).
 *
 * Web-platform globals only, so module code reads like browser or edge-worker code. Deliberately
 * absent: `process` (DGate exposed the whole host environment through `process.env`), `require`,
 * `module`, `Buffer`, `global`, file system and environment access. The language's own globals
 * (Object, Promise, JSON, Math, …) come from the context itself.
 *
 * Callbacks of timers and queueMicrotask that throw, or whose promise rejects, are logged at
 * `error` through host.log instead of crashing the process. Timers are unref'd: a pending timer of
 * module code never keeps the process alive. Timer handles are plain numbers, as in browsers.
 *
 * This is a curated scope, not a security boundary: node:vm does not isolate code from the
 * process (module authors are operators of the gateway, trusted like its configuration).
 */

type Callback = (...args: unknown[]) => unknown;

/** console methods → the level host.log gets */
const CONSOLE_LEVELS: ReadonlyArray<readonly [string, ModuleLogLevel]> = [
  ['log', 'info'],
  ['info', 'info'],
  ['debug', 'debug'],
  ['warn', 'warn'],
  ['error', 'error'],
];

/** An error's stack (errors of a vm context are not `instanceof Error` here), anything else inspected. */
function describe(err: unknown): string {
  const stack = typeof err === 'object' && err !== null ? (err as { stack?: unknown }).stack : undefined;
  return typeof stack === 'string' ? stack : format('%o', err);
}

/**
 * A `console` whose lines go to host.log. Each module gets its own (`module`: its name, bound as
 * a parameter around its code by module-set.ts), so a line names its module without a stack
 * capture; the global one (`module` null) serves code that reaches `globalThis.console`.
 */
export function createConsole(host: ModuleHost, module: string | null = null): Record<string, Callback> {
  const out: Record<string, Callback> = {};
  // util.format: printf-style placeholders, then every other argument inspected ({ a: 1 }, not [object Object]).
  for (const [method, level] of CONSOLE_LEVELS) out[method] = (...args) => host.log(level, module, format(...args));
  return out;
}

/**
 * Timers over Node's, keyed by number. `pending` maps the id of each pending timer to how to
 * cancel it: a timeout leaves it when it fires or is cleared, an interval when cleared.
 */
function createTimers(host: ModuleHost) {
  const pending = new Map<number, () => void>();
  let lastId = 0;

  /** Calls module code; a throw or a rejected promise is logged, never left uncaught. */
  const guard = (what: string, fn: Callback, args: unknown[]): void => {
    const report = (err: unknown) => {
      const text = describe(err);
      // the error's own stack names the module (the calling frames are the timer's, not module code)
      host.log('error', moduleInStack(text, host.namespace), `uncaught error in ${what} callback: ${text}`);
    };
    try {
      const result = fn(...args);
      if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') (result as PromiseLike<unknown>).then(undefined, report);
    } catch (err) {
      report(err);
    }
  };

  const callback = (what: string, fn: unknown): Callback => {
    // Browsers would eval a string here; module code gets no eval through the back door.
    if (typeof fn !== 'function') throw new TypeError(`${what}: callback must be a function`);
    return fn as Callback;
  };

  const clear = (id: unknown): void => {
    const cancel = pending.get(id as number);
    if (cancel === undefined) return;
    pending.delete(id as number);
    cancel();
  };

  const timers = {
    setTimeout(fn: unknown, ms?: unknown, ...args: unknown[]): number {
      const cb = callback('setTimeout', fn);
      const id = ++lastId;
      const handle = setTimeout(() => {
        pending.delete(id);
        guard('setTimeout', cb, args);
      }, Number(ms) || 0).unref();
      pending.set(id, () => clearTimeout(handle));
      return id;
    },
    setInterval(fn: unknown, ms?: unknown, ...args: unknown[]): number {
      const cb = callback('setInterval', fn);
      const id = ++lastId;
      const handle = setInterval(() => guard('setInterval', cb, args), Number(ms) || 0).unref();
      pending.set(id, () => clearInterval(handle));
      return id;
    },
    setImmediate(fn: unknown, ...args: unknown[]): number {
      const cb = callback('setImmediate', fn);
      const id = ++lastId;
      const handle = setImmediate(() => {
        pending.delete(id);
        guard('setImmediate', cb, args);
      }).unref();
      pending.set(id, () => clearImmediate(handle));
      return id;
    },
    clearTimeout: clear,
    clearInterval: clear,
    clearImmediate: clear,
    queueMicrotask(fn: unknown): void {
      const cb = callback('queueMicrotask', fn);
      queueMicrotask(() => guard('queueMicrotask', cb, []));
    },
  };
  const cancelAll = () => {
    for (const cancel of pending.values()) cancel();
    pending.clear();
  };
  return { timers, cancelAll };
}

/** On a globals object: cancels every pending timer of the module code (when its version is retired). */
export const kCancelTimers = Symbol('dgate.cancelTimers');

export function createGlobals(host: ModuleHost): Record<string | symbol, unknown> {
  const { timers, cancelAll } = createTimers(host);
  return {
    [kCancelTimers]: cancelAll,
    console: createConsole(host),
    fetch: createFetch(host),
    ...timers,
    URL,
    URLSearchParams,
    TextEncoder,
    TextDecoder,
    atob,
    btoa,
    structuredClone,
    crypto: {
      // bound: Node's getRandomValues refuses to run with any other `this`
      getRandomValues: <T extends Parameters<typeof webcrypto.getRandomValues>[0]>(array: T): T => webcrypto.getRandomValues(array),
      randomUUID: () => webcrypto.randomUUID(),
      subtle: webcrypto.subtle,
    },
    Headers,
    Request,
    Response,
    FormData,
    AbortController,
    AbortSignal,
    Blob,
    performance: { now: () => nodePerformance.now() },
  };
}

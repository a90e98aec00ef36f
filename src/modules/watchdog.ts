import { Worker } from 'node:worker_threads';

/** Which route's module code is running right now (set around every synchronous hook call). */
export interface HookScope {
  readonly id: number;
  readonly namespace: string;
  readonly name: string;
  readonly modules: readonly string[];
}

/**
 * Notices an event loop stuck in module code (e.g. `while (true) {}`), which no per-call
 * timeout could stop without costing every call: the main thread bumps a counter in shared
 * memory; a watchdog thread checks it, and when it has not moved for `limitMs` it logs the route
 * and modules that were running and, in a proxy worker process, kills the process (the primary
 * starts a fresh one and the other workers keep serving).
 */
/** The thread's file; inside a single-file executable (npm run build:binary) it is an embedded entry point. */
const THREAD = import.meta.url.startsWith('file:///$bunfs/') ? '/$bunfs/root/modules/watchdog-thread.js' : new URL('./watchdog-thread.js', import.meta.url);

export class Watchdog {
  readonly #view: Int32Array;
  readonly #thread: Worker;
  readonly #timer: NodeJS.Timeout;
  /** the list last sent to the thread */
  #described: readonly HookScope[] | null = null;

  constructor(limitMs: number, kill: boolean) {
    const shared = new SharedArrayBuffer(8);
    this.#view = new Int32Array(shared);
    this.#thread = new Worker(THREAD, { workerData: { shared, limitMs, kill } });
    this.#thread.unref();
    const view = this.#view;
    this.#timer = setInterval(() => Atomics.add(view, 0, 1), Math.max(10, Math.floor(limitMs / 5))).unref();
  }

  /**
   * Tells the thread the names behind scope ids (once per runtime table). The list a table keeps
   * while its module routes are unchanged is not sent again: a message costs the thread a wake-up
   * (on Node, 0.4-0.8 ms of CPU per revision on a busy 2-core machine: half of applying it).
   */
  describe(scopes: readonly HookScope[]): void {
    if (scopes === this.#described) return;
    this.#described = scopes;
    const names: Record<number, string> = {};
    for (const s of scopes) names[s.id] = JSON.stringify({ namespace: s.namespace, route: s.name, modules: s.modules });
    this.#thread.postMessage(names);
  }

  enter(id: number): void {
    Atomics.store(this.#view, 1, id);
  }

  leave(): void {
    Atomics.store(this.#view, 1, 0);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#thread.terminate();
  }
}

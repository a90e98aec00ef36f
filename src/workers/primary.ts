import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Change } from '../core/change.js';
import { parserHeadLimit, withBunHeadLimit } from '../platform/parser-head-limit.js';
import { isBun } from '../platform/runtime.js';
import type { State } from '../core/state.js';
import type { Publication } from '../sync/syncer.js';
import type { DataPlaneOptions } from '../proxy/data-plane.js';
import type { ObserveQuery } from '../observability/process-observer.js';
import type { ModuleLogRecord } from '../observability/module-log-record.js';
import type { FromWorker, ToWorker, WorkerModuleLogs } from './messages.js';

// Workers share the listening socket and the kernel hands out connections (no round-robin
// through the primary, which would cost a hop per connection).
cluster.schedulingPolicy = cluster.SCHED_NONE;

export interface WorkerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What every worker is told at start besides the data plane options. */
export interface WorkerMeta {
  logLevel: string;
  nodeId: string;
  /** the worker subscribes its metrics and stats (false with disable_metrics) */
  observe: boolean;
  moduleLogs: WorkerModuleLogs;
}

interface Slot {
  worker: Worker;
  /** true once the worker asked for its state: from then on it gets every batch */
  following: boolean;
  /** highest revision the worker serves (-1 before its first snapshot) */
  acked: number;
  /** replaced (failed, or too slow): no longer counted, not restarted when it exits */
  retired: boolean;
}

interface LiveWaiter {
  rev: number;
  resolve: () => void;
}

/** How long a worker may take to apply a change before it is replaced. */
const ACK_TIMEOUT_MS = 10_000;

/**
 * Runs `count` proxy worker processes and keeps each one on the current state. A publication is
 * live once every worker serves it: each one acknowledged its revision, or was replaced by a
 * worker that starts from a snapshot at least that new (a worker that cannot apply a revision
 * says so, stops accepting connections and is replaced; it never acknowledges a revision it does
 * not serve). Dead workers are restarted.
 */
export class WorkerPool {
  readonly #count: number;
  readonly #options: DataPlaneOptions;
  readonly #state: () => State;
  readonly #log: WorkerLogger;
  readonly #slots = new Map<number, Slot>();
  readonly #initMeta: WorkerMeta;
  #nextQuery = 1;
  readonly #queries = new Map<number, { slot: Slot; resolve: (data: unknown) => void }>();
  #port = 0;
  #tlsPort: number | null = null;
  #closing = false;
  #restarts: number[] = [];
  /** restarts scheduled but not forked yet: nothing is live until they hold the state */
  #pendingForks = 0;
  #waiters: LiveWaiter[] = [];

  readonly #write: (changes: Change[]) => Promise<State>;
  readonly #moduleLogs: (lines: ModuleLogRecord[]) => void;

  /** `moduleLogs` receives the module log lines the workers send (the node's buffer). */
  constructor(
    count: number,
    options: DataPlaneOptions,
    state: () => State,
    log: WorkerLogger,
    meta: WorkerMeta,
    write: (changes: Change[]) => Promise<State>,
    moduleLogs: (lines: ModuleLogRecord[]) => void = () => {},
  ) {
    this.#write = write;
    this.#moduleLogs = moduleLogs;
    this.#count = count;
    this.#options = options;
    this.#state = state;
    this.#log = log;
    this.#initMeta = meta;
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)) });
  }

  /** Starts every worker; resolves with the proxy port once all of them listen. */
  async start(): Promise<number> {
    const first = await this.#fork();
    this.#port = first.port;
    this.#tlsPort = first.tlsPort;
    await Promise.all(Array.from({ length: this.#count - 1 }, () => this.#fork()));
    return this.#port;
  }

  /** the TLS listener's port once started; null without proxy.tls */
  get tlsPort(): number | null {
    return this.#tlsPort;
  }

  /** the options of a new worker: once the first listens, the ports it bound (port 0 picks one) */
  #workerOptions(): DataPlaneOptions {
    if (this.#port === 0) return this.#options;
    const server = this.#options.server;
    const tls = server.tls === null || this.#tlsPort === null ? server.tls : { ...server.tls, port: this.#tlsPort };
    return { ...this.#options, server: { ...server, port: this.#port, tls } };
  }

  #fork(): Promise<{ port: number; tlsPort: number | null }> {
    return new Promise((resolve, reject) => {
      const limits = this.#options.server.limits;
      // on Bun: a parser head limit above the listener's own (see parser-head-limit.ts); Node ignores BUN_OPTIONS
      const worker = cluster.fork(isBun ? withBunHeadLimit(process.env, parserHeadLimit(limits.maxHeaderBytes, limits.maxUrlBytes)) : undefined);
      const slot: Slot = { worker, following: false, acked: -1, retired: false };
      this.#slots.set(worker.id, slot);
      const options = this.#workerOptions();
      worker.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'hello':
            // IPC keeps order: init, then the snapshot, then every batch published after this point.
            slot.following = true;
            this.#send(slot, { t: 'init', options, ...this.#initMeta });
            this.#sendSnapshot(slot);
            break;
          case 'listening':
            resolve({ port: m.port, tlsPort: m.tlsPort });
            break;
          case 'ack':
            slot.acked = Math.max(slot.acked, m.rev);
            this.#settle();
            break;
          case 'resync':
            this.#sendSnapshot(slot);
            break;
          case 'write':
            this.#write(m.changes).then(
              (s) => this.#send(slot, { t: 'written', id: m.id, rev: s.rev }),
              (err: Error & { code?: string; status?: number }) =>
                this.#send(slot, { t: 'write-failed', id: m.id, message: err.message, code: err.code ?? 'DG_ERR_INTERNAL', status: err.status ?? 500 }),
            );
            break;
          case 'reply': {
            const q = this.#queries.get(m.id);
            this.#queries.delete(m.id);
            q?.resolve(m.data);
            break;
          }
          case 'logs':
            this.#moduleLogs(m.lines);
            break;
          case 'failed':
            this.#log.error({ worker: worker.process.pid, rev: m.rev, error: m.error }, 'proxy worker could not apply a revision; replacing it');
            this.#replace(slot, 'SIGTERM');
            break;
        }
      });
      worker.on('exit', (code, signal) => {
        this.#slots.delete(worker.id);
        reject(new Error(`proxy worker exited before listening (code ${code}, signal ${signal})`));
        if (this.#closing || slot.retired) {
          this.#settle();
          return;
        }
        this.#log.warn({ worker: worker.process.pid, code, signal }, 'proxy worker exited; starting a new one');
        this.#restart();
      });
    });
  }

  /** Retires a worker and starts its replacement at once (from the current state). */
  #replace(slot: Slot, signal: NodeJS.Signals): void {
    if (slot.retired || this.#closing) return;
    slot.retired = true;
    this.#slots.delete(slot.worker.id);
    slot.worker.process.kill(signal);
    this.#restart();
  }

  #restart(): void {
    const now = Date.now();
    this.#restarts = this.#restarts.filter((t) => now - t < 10_000);
    this.#restarts.push(now);
    // A worker that keeps dying is restarted at most about once a second.
    const delay = this.#restarts.length > 5 ? 1000 : 0;
    this.#pendingForks++;
    setTimeout(() => {
      this.#pendingForks--;
      if (!this.#closing) this.#fork().catch((err) => this.#closing || this.#log.error({ err: String(err) }, 'proxy worker did not start'));
    }, delay);
  }

  #send(slot: Slot, m: ToWorker): void {
    if (slot.worker.isConnected()) slot.worker.send(m);
  }

  #sendSnapshot(slot: Slot): void {
    const state = this.#state();
    this.#send(slot, { t: 'snapshot', rev: state.rev, items: [...state.entries()], seenAt: Date.now() });
  }

  /** revision every worker serves (-1 while a worker is being started) */
  #liveRev(): number {
    if (this.#pendingForks > 0) return -1;
    let live = Number.MAX_SAFE_INTEGER;
    for (const slot of this.#slots.values()) live = Math.min(live, slot.acked);
    return live;
  }

  #settle(): void {
    if (this.#waiters.length === 0) return;
    const live = this.#liveRev();
    const left: LiveWaiter[] = [];
    for (const w of this.#waiters) (w.rev <= live ? w.resolve() : left.push(w));
    this.#waiters = left;
  }

  /** Sends a publication to every worker and resolves once it is live in all of them. */
  publish(p: Publication): Promise<void> {
    const rev = p.state.rev;
    const seenAt = Date.now();
    for (const slot of this.#slots.values()) {
      if (!slot.following) continue; // it will get a snapshot that includes this publication
      if (p.changes === null) this.#sendSnapshot(slot);
      else this.#send(slot, { t: 'batch', from: p.from, rev, changes: p.changes as Change[], seenAt });
    }
    if (this.#liveRev() >= rev) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // A worker that has not applied the revision in time is replaced.
      const timer = setTimeout(() => {
        for (const slot of [...this.#slots.values()]) {
          if (slot.acked >= rev) continue;
          this.#log.error({ worker: slot.worker.process.pid, rev }, 'proxy worker did not apply a change in time; replacing it');
          this.#replace(slot, 'SIGKILL');
        }
      }, ACK_TIMEOUT_MS);
      this.#waiters.push({
        rev,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /**
   * Asks every live worker the same question; resolves with the answers that arrive within
   * `timeoutMs` (a worker busy in module code or being replaced is left out).
   */
  query(what: ObserveQuery, timeoutMs: number): Promise<unknown[]> {
    const asked = [...this.#slots.values()].filter((s) => s.following && !s.retired && s.worker.isConnected());
    return new Promise((resolve) => {
      const answers: unknown[] = [];
      const ids: number[] = [];
      let left = asked.length;
      const finish = () => {
        clearTimeout(timer);
        for (const id of ids) this.#queries.delete(id);
        resolve(answers);
      };
      const timer = setTimeout(finish, timeoutMs);
      if (left === 0) return finish();
      for (const slot of asked) {
        const id = this.#nextQuery++;
        ids.push(id);
        this.#queries.set(id, {
          slot,
          resolve: (data) => {
            if (data !== null) answers.push(data);
            if (--left === 0) finish();
          },
        });
        this.#send(slot, { t: 'query', id, what });
      }
    });
  }

  /** process ids of the running workers */
  pids(): number[] {
    return [...this.#slots.values()].map((s) => s.worker.process.pid!).filter((p) => p !== undefined);
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const w of this.#waiters) w.resolve();
    this.#waiters = [];
    const exits = [...this.#slots.values()].map(
      (s) =>
        new Promise<void>((resolve) => {
          s.worker.once('exit', () => resolve());
          s.worker.process.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
  }
}

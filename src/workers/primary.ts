import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Change } from '../core/change.js';
import type { State } from '../core/state.js';
import type { DataPlaneOptions } from '../proxy/data-plane.js';
import type { FromWorker, ToWorker } from './messages.js';

// Workers share the listening socket and the kernel hands out connections (no round-robin
// through the primary, which would cost a hop per connection).
cluster.schedulingPolicy = cluster.SCHED_NONE;

export interface WorkerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface Slot {
  worker: Worker;
  /** true once the worker asked for its state: from then on it gets every batch */
  following: boolean;
  acked: number;
  waiters: Array<{ rev: number; done: () => void }>;
}

/** How long a worker may take to apply a change before it is replaced. */
const ACK_TIMEOUT_MS = 10_000;

/**
 * Runs `count` proxy worker processes and keeps each one on the current state. A write is live
 * once `publish` resolves: every worker has acknowledged the revision, or was replaced by a
 * worker that starts from a snapshot at least that new. Dead workers are restarted.
 */
export class WorkerPool {
  readonly #count: number;
  readonly #options: DataPlaneOptions;
  readonly #state: () => State;
  readonly #log: WorkerLogger;
  readonly #slots = new Map<number, Slot>();
  readonly #initMeta: { logLevel: string; nodeId: string };
  #port = 0;
  #closing = false;
  #restarts: number[] = [];

  readonly #write: (changes: Change[]) => Promise<State>;

  constructor(count: number, options: DataPlaneOptions, state: () => State, log: WorkerLogger, meta: { logLevel: string; nodeId: string }, write: (changes: Change[]) => Promise<State>) {
    this.#write = write;
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
    this.#port = first;
    await Promise.all(Array.from({ length: this.#count - 1 }, () => this.#fork()));
    return this.#port;
  }

  #fork(): Promise<number> {
    return new Promise((resolve, reject) => {
      const worker = cluster.fork();
      const slot: Slot = { worker, following: false, acked: -1, waiters: [] };
      this.#slots.set(worker.id, slot);
      const options: DataPlaneOptions = this.#port === 0 ? this.#options : { ...this.#options, server: { ...this.#options.server, port: this.#port } };
      worker.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'hello':
            // IPC keeps order: init, then the snapshot, then every batch published after this point.
            slot.following = true;
            this.#send(slot, { t: 'init', options, ...this.#initMeta });
            this.#sendSnapshot(slot);
            break;
          case 'listening':
            resolve(m.port);
            break;
          case 'ack':
            slot.acked = Math.max(slot.acked, m.rev);
            slot.waiters = slot.waiters.filter((w) => (w.rev <= slot.acked ? (w.done(), false) : true));
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
          case 'failed':
            this.#log.error({ worker: worker.process.pid, error: m.error }, 'proxy worker failed');
            break;
        }
      });
      worker.on('exit', (code, signal) => {
        this.#slots.delete(worker.id);
        for (const w of slot.waiters) w.done();
        reject(new Error(`proxy worker exited before listening (code ${code}, signal ${signal})`));
        if (this.#closing) return;
        this.#log.warn({ worker: worker.process.pid, code, signal }, 'proxy worker exited; starting a new one');
        this.#restart();
      });
    });
  }

  #restart(): void {
    const now = Date.now();
    this.#restarts = this.#restarts.filter((t) => now - t < 10_000);
    this.#restarts.push(now);
    // A worker that keeps dying is restarted at most about once a second.
    const delay = this.#restarts.length > 5 ? 1000 : 0;
    setTimeout(() => {
      if (!this.#closing) this.#fork().catch((err) => this.#closing || this.#log.error({ err: String(err) }, 'proxy worker did not start'));
    }, delay);
  }

  #send(slot: Slot, m: ToWorker): void {
    if (slot.worker.isConnected()) slot.worker.send(m);
  }

  #sendSnapshot(slot: Slot): void {
    const state = this.#state();
    this.#send(slot, { t: 'snapshot', rev: state.rev, items: [...state.entries()] });
  }

  /** Sends a committed batch to every worker and resolves once it is live in all of them. */
  publish(state: State, changes: readonly Change[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const slot of this.#slots.values()) {
      if (!slot.following) continue; // it will get a snapshot that includes this batch
      this.#send(slot, { t: 'batch', rev: state.rev, changes: changes as Change[] });
      if (slot.acked >= state.rev) continue;
      waits.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.#log.error({ worker: slot.worker.process.pid, rev: state.rev }, 'proxy worker did not apply a change in time; replacing it');
            slot.worker.process.kill('SIGKILL');
          }, ACK_TIMEOUT_MS);
          slot.waiters.push({
            rev: state.rev,
            done: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        }),
      );
    }
    return Promise.all(waits).then(() => undefined);
  }

  /** process ids of the running workers */
  pids(): number[] {
    return [...this.#slots.values()].map((s) => s.worker.process.pid!).filter((p) => p !== undefined);
  }

  async close(): Promise<void> {
    this.#closing = true;
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

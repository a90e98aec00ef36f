import type { Change, ChangeBatch } from '../core/change.js';
import { Errors, GatewayError } from '../core/errors.js';
import { State } from '../core/state.js';
import { channels } from '../observability/channels.js';
import type { ChangeStore, Snapshot, Unsubscribe } from '../store/store.js';
import { Backoff } from './backoff.js';

/**
 * A revision to make live on the node: `changes` lead from the state at revision `from` to
 * `state` (several committed batches may be merged into one publication); `changes` is null for a
 * whole state (the first load, or a reload), which the receiver builds from scratch.
 */
export interface Publication {
  readonly from: number;
  readonly state: State;
  readonly changes: readonly Change[] | null;
}

/** Makes a publication live on every data plane of the node; resolves once it is served everywhere. */
export type Publish = (publication: Publication) => Promise<void>;

export interface SyncStatus {
  /** false while the store cannot be followed or a revision cannot be applied or served */
  readonly healthy: boolean;
  /** revision of the state held (applied) */
  readonly rev: number;
  /** revision served by every data plane of the node */
  readonly liveRev: number;
  readonly error: string | null;
}

export interface SyncLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface LiveWaiter {
  rev: number;
  resolve: (state: State) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | null;
}

interface AppliedWaiter {
  rev: number;
  resolve: (applied: boolean) => void;
  timer: NodeJS.Timeout;
}

const silent: SyncLogger = { warn: () => {}, error: () => {} };

/**
 * Owns the node's state and keeps it on the store's: it loads a snapshot, follows the store's
 * batches from the next revision (its own process's commits and everybody else's alike), applies
 * them in order and publishes each applied revision to the node's data plane(s). Nothing else
 * mutates the state: writers commit to the store and wait here until their revision is live.
 *
 * A gap in the revisions or a reset from the store (history compacted) reloads the whole
 * snapshot; a batch that cannot be applied keeps the old state, is reported in `status()` and is
 * retried through a reload with backoff. It never throws at its caller.
 */
export class Syncer {
  readonly #store: ChangeStore;
  readonly #log: SyncLogger;
  readonly #backoff = new Backoff();
  #state: State = State.empty(0);
  #live = -1;
  #publish: Publish | null = null;
  /** batches received and not yet applied (applied together in a microtask) */
  #queue: ChangeBatch[] = [];
  #draining = false;
  /** states of revisions applied but not yet live (a writer gets the state at its revision) */
  readonly #recent = new Map<number, State>();
  #liveWaiters: LiveWaiter[] = [];
  #appliedWaiters: AppliedWaiter[] = [];
  readonly #listeners = new Set<(rev: number) => void>();
  #unwatch: Unsubscribe | null = null;
  #reloading: Promise<void> | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #error: string | null = null;
  /** why the store's health check fails (null: it answers) */
  #storeError: string | null = null;
  #healthTimer: NodeJS.Timeout | null = null;
  readonly #statusListeners = new Set<(status: SyncStatus) => void>();
  #closed = false;

  constructor(store: ChangeStore, logger: SyncLogger = silent) {
    this.#store = store;
    this.#log = logger;
  }

  /** the latest applied state */
  get state(): State {
    return this.#state;
  }

  get rev(): number {
    return this.#state.rev;
  }

  /** revision served by every data plane of the node (-1 before the first load) */
  get liveRev(): number {
    return this.#live;
  }

  status(): SyncStatus {
    const error = this.#storeError ?? this.#error;
    return { healthy: error === null, rev: this.#state.rev, liveRev: this.#live, error };
  }

  /** Calls `listener` whenever the health or the error of the sync changes. */
  onStatus(listener: (status: SyncStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /**
   * Starts from a state kept elsewhere (the node's last-known-good snapshot) when the store cannot
   * be loaded: the node serves it, reports itself degraded with `reason`, and keeps trying to load
   * the store (with backoff) until it can follow it again.
   */
  startFrom(snapshot: Snapshot, reason: string): void {
    this.#applied(State.fromItems(snapshot.rev, snapshot.items));
    this.#fail(reason);
  }

  /**
   * Checks every `intervalMs` that the store answers (`probe` rejects when it does not): a store
   * that cannot be reached makes the node degraded even while nobody writes, and healthy again
   * when it answers. Following resumes by itself (the store's watch reconnects).
   */
  checkHealth(probe: () => Promise<void>, intervalMs: number): void {
    const tick = async () => {
      let error: string | null = null;
      try {
        await probe();
      } catch (err) {
        error = message(err);
      }
      if (this.#closed) return;
      if (error !== this.#storeError) {
        if (error === null) this.#log.warn({ rev: this.#state.rev }, 'store reachable again');
        else if (this.#storeError === null) this.#log.error({ rev: this.#state.rev, error }, 'store unreachable; serving the last state');
        this.#storeError = error;
        this.#statusChanged();
      }
      this.#healthTimer = setTimeout(tick, intervalMs);
      this.#healthTimer.unref();
    };
    this.#healthTimer = setTimeout(tick, intervalMs);
    this.#healthTimer.unref();
  }

  #setError(error: string | null): void {
    if (error === this.#error) return;
    this.#error = error;
    this.#statusChanged();
  }

  #statusChanged(): void {
    const status = this.status();
    for (const l of this.#statusListeners) {
      try {
        l(status);
      } catch (err) {
        this.#log.error({ error: message(err) }, 'status listener failed');
      }
    }
  }

  /** Loads the snapshot and starts following the store. Rejects only if the first load fails. */
  async start(): Promise<void> {
    await this.#reload(true);
  }

  /**
   * Sets where applied revisions are published (the node's data plane or worker pool). The caller
   * has just made the current `state` live there; every later revision goes through `publish`.
   */
  setPublisher(publish: Publish): void {
    this.#publish = publish;
  }

  /** Calls `listener` with each revision once it is live on the node. */
  onLive(listener: (rev: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves with the state at `rev` (or a later one) once `rev` is live on every data plane of
   * the node; rejects with DG_ERR_PROPAGATION_TIMEOUT after `timeoutMs`, or when it cannot be served.
   */
  waitFor(rev: number, timeoutMs: number): Promise<State> {
    if (rev <= this.#live) return Promise.resolve(this.#recent.get(rev) ?? this.#state);
    return new Promise((resolve, reject) => {
      const w: LiveWaiter = { rev, resolve, reject, timer: null };
      w.timer = setTimeout(() => {
        this.#liveWaiters = this.#liveWaiters.filter((x) => x !== w);
        reject(Errors.PROPAGATION_TIMEOUT(rev));
      }, timeoutMs);
      this.#liveWaiters.push(w);
    });
  }

  /** Resolves true once the state has reached `rev` (applied, maybe not yet live), false after `timeoutMs`. */
  waitApplied(rev: number, timeoutMs: number): Promise<boolean> {
    if (rev <= this.#state.rev) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w: AppliedWaiter = {
        rev,
        resolve,
        timer: setTimeout(() => {
          this.#appliedWaiters = this.#appliedWaiters.filter((x) => x !== w);
          resolve(false);
        }, timeoutMs),
      };
      this.#appliedWaiters.push(w);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#unwatch?.();
    this.#unwatch = null;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    if (this.#healthTimer !== null) clearTimeout(this.#healthTimer);
    for (const w of this.#liveWaiters) {
      if (w.timer !== null) clearTimeout(w.timer);
      w.reject(Errors.NOT_READY());
    }
    this.#liveWaiters = [];
    for (const w of this.#appliedWaiters) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
    this.#appliedWaiters = [];
    await this.#reloading?.catch(() => undefined);
  }

  /** Reloads the whole snapshot, publishes it, and follows the store from the revision after it. */
  #reload(first = false): Promise<void> {
    if (this.#reloading !== null) return this.#reloading;
    this.#unwatch?.();
    this.#unwatch = null;
    this.#queue = [];
    const run = (async () => {
      try {
        const snapshot = await this.#store.load();
        if (this.#closed) return;
        const state = State.fromItems(snapshot.rev, snapshot.items);
        this.#applied(state);
        this.#publishOne({ from: -1, state, changes: null });
        this.#unwatch = this.#store.watch(state.rev + 1, (b) => this.#receive(b), () => this.#onReset());
        this.#setError(null);
        this.#backoff.reset();
      } catch (err) {
        if (first) throw err;
        this.#fail(`reloading the state failed: ${message(err)}`);
      } finally {
        this.#reloading = null;
      }
    })();
    this.#reloading = run;
    return run;
  }

  #onReset(): void {
    if (this.#closed) return;
    this.#log.warn({ rev: this.#state.rev }, 'store history no longer holds the next revision; reloading the whole state');
    void this.#reload();
  }

  /** Reports a failure and retries with a reload after a backoff delay. */
  #fail(error: string): void {
    this.#setError(error);
    this.#log.error({ rev: this.#state.rev, error }, 'state sync degraded');
    if (this.#closed || this.#retryTimer !== null) return;
    this.#unwatch?.();
    this.#unwatch = null;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (!this.#closed) void this.#reload();
    }, this.#backoff.next());
    this.#retryTimer.unref();
  }

  /**
   * A batch this node just committed (its compare-and-set on the revision before it succeeded):
   * applied at once when it is the next revision, without waiting for the store's watch to bring
   * it back. The watch still delivers it; that copy is skipped as already applied.
   */
  offer(batch: ChangeBatch): void {
    if (this.#closed || this.#reloading !== null || this.#retryTimer !== null) return;
    const last = this.#queue.length > 0 ? this.#queue[this.#queue.length - 1]!.rev : this.#state.rev;
    if (batch.rev === last + 1) this.#receive(batch);
  }

  #receive(batch: ChangeBatch): void {
    if (this.#closed || this.#reloading !== null) return;
    if (channels.syncStep.hasSubscribers && batch.rev > (this.#queue.at(-1)?.rev ?? this.#state.rev)) channels.syncStep.publish({ step: 'received', rev: batch.rev });
    this.#queue.push(batch);
    if (!this.#draining) {
      this.#draining = true;
      queueMicrotask(() => this.#drain());
    }
  }

  /** Applies every queued batch in order and publishes them as one publication. */
  #drain(): void {
    this.#draining = false;
    const batches = this.#queue;
    this.#queue = [];
    if (this.#closed || this.#reloading !== null || this.#retryTimer !== null) return;
    const from = this.#state.rev;
    let state = this.#state;
    const changes: Change[] = [];
    for (const b of batches) {
      if (b.rev <= state.rev) continue; // delivered twice
      if (b.rev !== state.rev + 1) {
        this.#log.warn({ rev: state.rev, got: b.rev }, 'revision gap in the store watch; reloading the whole state');
        this.#settle(state, from, changes);
        void this.#reload();
        return;
      }
      try {
        state = state.applyChanges(b.changes, b.rev);
      } catch (err) {
        this.#settle(state, from, changes);
        this.#fail(`revision ${b.rev} cannot be applied: ${message(err)}`);
        return;
      }
      this.#recent.set(b.rev, state);
      for (const c of b.changes) changes.push(c);
    }
    this.#settle(state, from, changes);
  }

  #settle(state: State, from: number, changes: Change[]): void {
    if (state.rev === from) return;
    this.#applied(state);
    if (channels.syncStep.hasSubscribers) for (let rev = from + 1; rev <= state.rev; rev++) channels.syncStep.publish({ step: 'applied', rev });
    this.#publishOne({ from, state, changes });
  }

  #applied(state: State): void {
    this.#state = state;
    const ready = this.#appliedWaiters.filter((w) => w.rev <= state.rev);
    if (ready.length === 0) return;
    this.#appliedWaiters = this.#appliedWaiters.filter((w) => w.rev > state.rev);
    for (const w of ready) {
      clearTimeout(w.timer);
      w.resolve(true);
    }
  }

  #publishOne(p: Publication): void {
    const publish = this.#publish;
    let done: Promise<void>;
    try {
      done = publish === null ? Promise.resolve() : publish(p);
    } catch (err) {
      done = Promise.reject(err);
    }
    const rev = p.state.rev;
    done.then(
      () => this.#markLive(rev),
      (err: unknown) => {
        const error = `revision ${rev} could not be made live: ${message(err)}`;
        this.#setError(error);
        this.#log.error({ rev, error }, 'state sync degraded');
        const failed = err instanceof GatewayError ? err : Errors.PROPAGATION_TIMEOUT(rev);
        const left: LiveWaiter[] = [];
        for (const w of this.#liveWaiters) {
          if (w.rev > rev) left.push(w);
          else {
            if (w.timer !== null) clearTimeout(w.timer);
            w.reject(failed);
          }
        }
        this.#liveWaiters = left;
      },
    );
  }

  #markLive(rev: number): void {
    if (rev <= this.#live) return;
    if (channels.syncStep.hasSubscribers && this.#live >= 0) for (let r = this.#live + 1; r <= rev; r++) channels.syncStep.publish({ step: 'live', rev: r });
    this.#live = rev;
    if (this.#error !== null && this.#error.startsWith('revision ') && this.#error.includes('could not be made live')) this.#setError(null);
    const left: LiveWaiter[] = [];
    for (const w of this.#liveWaiters) {
      if (w.rev > rev) {
        left.push(w);
        continue;
      }
      if (w.timer !== null) clearTimeout(w.timer);
      w.resolve(this.#recent.get(w.rev) ?? this.#state);
    }
    this.#liveWaiters = left;
    for (const r of this.#recent.keys()) if (r <= rev) this.#recent.delete(r);
    for (const l of this.#listeners) {
      try {
        l(rev);
      } catch (err) {
        this.#log.error({ rev, error: message(err) }, 'live revision listener failed');
      }
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

import type { Change } from '../core/change.js';
import { Errors, GatewayError } from '../core/errors.js';
import { validateBatch } from '../core/relations.js';
import type { State } from '../core/state.js';
import { channels } from '../observability/channels.js';
import type { ChangeStore } from '../store/store.js';
import type { Syncer } from './syncer.js';

/**
 * Checks a candidate state before it is committed, e.g. by building the proxy's runtime table
 * from it (route patterns, module code); throws a GatewayError to refuse the write. It may return
 * a function the writer calls once the candidate is committed (to keep what the check built).
 */
export type CheckState = (candidate: State, before: State) => (() => void) | void;

export interface WriterOptions {
  /** how long a committed revision may take to be live on every worker before the write fails with 504 */
  propagationTimeoutMs?: number;
  /** how many times a write is rebuilt after another writer committed first before the 409 (and at least 10 s of retrying) */
  maxAttempts?: number;
}

const DEFAULT_PROPAGATION_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_ATTEMPTS = 20;
/** how long a write waits for this node to see a concurrent commit before it tries again anyway */
const CATCH_UP_MS = 5_000;
/** how long a writer that keeps losing compare-and-set races goes on retrying */
const CONFLICT_BUDGET_MS = 10_000;

/**
 * The single write path of the gateway (admin API, init_resources, modules' dgate/state). It holds
 * no state: each write is built and validated against the syncer's state, committed with a
 * compare-and-set on the revision it was validated against, then answered once this node's
 * syncer has made that revision live on every worker. When another writer (another process or
 * node) committed first, the write is rebuilt on the newer state and tried again, so users see a
 * 409 only after many lost races in a row. A build or validation error rejects with a
 * GatewayError and changes nothing.
 */
export class ChangeWriter {
  readonly #store: ChangeStore;
  readonly #syncer: Syncer;
  readonly #check: CheckState;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  /** local writes commit one at a time (they would only conflict with each other); waiting to be live is not serialized */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: ChangeStore, syncer: Syncer, check: CheckState = () => {}, opts: WriterOptions = {}) {
    this.#store = store;
    this.#syncer = syncer;
    this.#check = check;
    this.#timeoutMs = opts.propagationTimeoutMs ?? DEFAULT_PROPAGATION_TIMEOUT_MS;
    this.#maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  }

  /** the latest state applied on this node */
  get state(): State {
    return this.#syncer.state;
  }

  /** Resolves with the state at the write's revision once it is live on every worker of this node. */
  async write(build: (state: State) => Change[]): Promise<State> {
    if (channels.syncStep.hasSubscribers) channels.syncStep.publish({ step: 'write', rev: this.#syncer.state.rev + 1 });
    const run = this.#queue.then(() => this.#commit(build));
    this.#queue = run.catch(() => undefined);
    const committed = await run;
    if (typeof committed !== 'number') return committed;
    return this.#syncer.waitFor(committed, this.#timeoutMs);
  }

  /** Builds, validates, checks and commits; returns the committed revision (or the state when nothing changes). */
  async #commit(build: (state: State) => Change[]): Promise<number | State> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const before = this.#syncer.state;
      const changes = build(before);
      if (changes.length === 0) return before;
      validateBatch(before, changes);
      const accept = this.#check(before.applyChanges(changes, before.rev + 1), before);
      let rev: number;
      const steps = channels.syncStep.hasSubscribers;
      if (steps) channels.syncStep.publish({ step: 'commit-sent', rev: before.rev + 1 });
      try {
        rev = await this.#store.commit(changes, { expectRev: before.rev });
      } catch (err) {
        if (!(err instanceof GatewayError) || err.code !== 'DG_ERR_REVISION_CONFLICT') throw err;
        // Each lost race means another commit went in first, so retrying always makes progress;
        // only a writer that keeps losing for CONFLICT_BUDGET_MS (and maxAttempts) gives up.
        if (attempt >= this.#maxAttempts && Date.now() - started > CONFLICT_BUDGET_MS) throw err;
        // Someone committed first: wait until this node has applied it, then rebuild on it.
        await this.#syncer.waitApplied(before.rev + 1, CATCH_UP_MS);
        continue;
      }
      if (steps) channels.syncStep.publish({ step: 'committed', rev });
      if (typeof accept === 'function') accept();
      this.#syncer.offer({ rev, at: new Date().toISOString(), changes });
      // The next local write must build on this one: wait until the syncer holds it.
      if (!(await this.#syncer.waitApplied(rev, this.#timeoutMs))) throw Errors.PROPAGATION_TIMEOUT(rev);
      return rev;
    }
  }
}

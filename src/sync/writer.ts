import type { Change } from '../core/change.js';
import { validateBatch } from '../core/relations.js';
import type { State } from '../core/state.js';
import type { ChangeStore } from '../store/store.js';

/** Makes a committed state live everywhere it serves traffic; resolves once it is. */
export type Publish = (state: State, changes: readonly Change[]) => Promise<void>;

/**
 * Checks a candidate state before it is committed, e.g. by building the proxy's runtime table
 * from it (route patterns, later module code); throws a GatewayError to refuse the write.
 */
export type CheckState = (candidate: State) => void;

/**
 * The single write path of the gateway (admin API, init_resources, later modules' dgate/state).
 * Writes are serialized; each one is built and validated against the latest state, committed
 * as one atomic batch, then published; the promise resolves when the change is live.
 * A build or validation error rejects with a GatewayError and changes nothing.
 */
export class ChangeWriter {
  #state: State;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #store: ChangeStore;
  readonly #publish: Publish;
  readonly #check: CheckState;

  constructor(store: ChangeStore, initial: State, publish: Publish, check: CheckState = () => {}) {
    this.#store = store;
    this.#state = initial;
    this.#publish = publish;
    this.#check = check;
  }

  /** the latest committed state */
  get state(): State {
    return this.#state;
  }

  /** Replaces the state after a reload from the store (e.g. when another process wrote). */
  reset(state: State): void {
    this.#state = state;
  }

  write(build: (state: State) => Change[]): Promise<State> {
    // Chained so that each build sees the state left by the write before it.
    const run = this.#queue.then(async () => {
      const before = this.#state;
      const changes = build(before);
      if (changes.length === 0) return before;
      validateBatch(before, changes);
      this.#check(before.applyChanges(changes, before.rev + 1));
      const rev = await this.#store.commit(changes, { expectRev: before.rev });
      const after = before.applyChanges(changes, rev);
      this.#state = after;
      await this.#publish(after, changes);
      return after;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

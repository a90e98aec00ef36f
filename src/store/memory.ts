import type { Change, ChangeBatch } from '../core/change.js';
import { itemKey } from '../core/change.js';
import { Errors } from '../core/errors.js';
import type { ChangeStore, CommitOptions, Snapshot, StoredItem, Unsubscribe } from './store.js';

export interface MemoryStoreOptions {
  /** how many revisions of history to keep (older ones are compacted away) */
  historyLimit?: number;
  /** items present from the start, before the first revision (tests that need a seeded store at revision 0) */
  items?: readonly StoredItem[];
}

/** A store that lives in the process only: state is lost on exit. For tests and `storage.type: memory`. */
export class MemoryStore implements ChangeStore {
  readonly type = 'memory';
  readonly #items = new Map<string, StoredItem>();
  readonly #history: ChangeBatch[] = [];
  readonly #listeners = new Set<(b: ChangeBatch) => void>();
  readonly #historyLimit: number;
  #rev = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.#historyLimit = opts.historyLimit ?? 1000;
    for (const it of opts.items ?? []) this.#items.set(itemKey(it.kind, it.namespace, it.name), structuredClone(it));
  }

  async load(): Promise<Snapshot> {
    return { rev: this.#rev, items: structuredClone([...this.#items.values()]) };
  }

  async commit(changes: Change[], opts: CommitOptions = {}): Promise<number> {
    if (opts.expectRev !== undefined && opts.expectRev !== this.#rev) throw Errors.REVISION_CONFLICT(opts.expectRev, this.#rev);
    const batch: ChangeBatch = { rev: this.#rev + 1, at: new Date().toISOString(), changes: structuredClone(changes) };
    for (const c of batch.changes) {
      const key = itemKey(c.kind, c.namespace, c.name);
      // items get their own copy: batches are handed out, and whoever receives one may mutate it
      if (c.op === 'put') this.#items.set(key, { kind: c.kind, namespace: c.namespace, name: c.name, item: structuredClone(c.item) });
      else this.#items.delete(key);
    }
    this.#rev = batch.rev;
    this.#history.push(batch);
    if (this.#history.length > this.#historyLimit) this.#history.splice(0, this.#history.length - this.#historyLimit);
    const delivered = structuredClone(batch);
    for (const l of this.#listeners) {
      try {
        l(delivered);
      } catch (err) {
        // A broken follower must not fail the commit (already applied) nor starve the other listeners.
        process.emitWarning(`store watcher threw on revision ${batch.rev}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, {
          code: 'DGATE_STORE_WATCHER',
        });
      }
    }
    return batch.rev;
  }

  watch(fromRev: number, onBatch: (batch: ChangeBatch) => void, onReset: () => void): Unsubscribe {
    const oldest = this.#history[0]?.rev ?? this.#rev + 1;
    // Batches fromRev..rev are needed; revisions start at 1, so fromRev 0 means "from the beginning".
    if (Math.max(fromRev, 1) < oldest && fromRev <= this.#rev) {
      queueMicrotask(onReset);
      return () => {};
    }
    for (const b of this.#history) if (b.rev >= fromRev) onBatch(structuredClone(b));
    // fromRev may lie in the future: skip the commits before it
    const listener = (b: ChangeBatch) => {
      if (b.rev >= fromRev) onBatch(b);
    };
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async history(fromRev: number, limit: number): Promise<ChangeBatch[]> {
    return structuredClone(this.#history.filter((b) => b.rev >= fromRev).slice(0, Math.max(0, limit)));
  }

  async oldestRev(): Promise<number> {
    return this.#history[0]?.rev ?? 0;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}

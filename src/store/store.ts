import type { Change, ChangeBatch } from '../core/change.js';
import type { Kind, Resource } from '../core/types.js';

export interface StoredItem {
  kind: Kind;
  namespace: string;
  name: string;
  item: Resource;
}

export interface Snapshot {
  /** revision of the last batch included; 0 for an empty store */
  rev: number;
  items: StoredItem[];
}

export interface CommitOptions {
  /** refuse the commit (DG_ERR_REVISION_CONFLICT) unless the store is still at this revision */
  expectRev?: number;
}

export type Unsubscribe = () => void;

/**
 * Persistence of the gateway's state as a sequence of atomic change batches.
 * Implementations: memory.ts, sqlite.ts (etcd.ts later). All pass store.contract.ts.
 */
export interface ChangeStore {
  /** short name for logs: "memory", "file", "etcd" */
  readonly type: string;
  /** current state of every item plus the revision it reflects */
  load(): Promise<Snapshot>;
  /**
   * Applies `changes` atomically as one new revision and returns that revision. Puts replace the
   * whole item, deletes remove it (a delete of a missing item is a no-op at this level: validation
   * happens before, in core). Resolves only once the batch is durable.
   */
  commit(changes: Change[], opts?: CommitOptions): Promise<number>;
  /**
   * Calls onBatch for every batch with rev >= fromRev, in order, then for each new commit.
   * If history needed to resume was compacted away, calls onReset instead (caller reloads).
   */
  watch(fromRev: number, onBatch: (batch: ChangeBatch) => void, onReset: () => void): Unsubscribe;
  /** committed batches with rev >= fromRev (oldest first), at most `limit` */
  history(fromRev: number, limit: number): Promise<ChangeBatch[]>;
  /** oldest revision still in history (0 when none) */
  oldestRev(): Promise<number>;
  /**
   * Resolves when the store answers a consistent read now; rejects with DG_ERR_STORE_UNAVAILABLE
   * otherwise. Only stores on another machine (etcd) have it: a local file or memory store is
   * always there.
   */
  health?(): Promise<void>;
  close(): Promise<void>;
}

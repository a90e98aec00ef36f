import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Change, ChangeBatch } from '../core/change.js';
import { Errors, GatewayError } from '../core/errors.js';
import type { Kind, Resource } from '../core/types.js';
import { openDatabase, type SqlDatabase } from '../platform/sqlite.js';
import type { ChangeStore, CommitOptions, Snapshot, StoredItem, Unsubscribe } from './store.js';

export interface SqliteStoreOptions {
  /** directory holding the database file (`dgate.db`); created if missing */
  dir: string;
  /** how many revisions of history to keep (older ones are compacted away); default 1000 */
  historyLimit?: number;
  /** how often watchers look for commits made by other processes on the same file, ms; default 100 */
  pollMs?: number;
}

const DEFAULT_POLL_MS = 100;

/** Layout version kept in `PRAGMA user_version`; bump it with a migration when the schema changes. */
const SCHEMA_VERSION = 1;

/**
 * items:   the current state, one row per resource (the JSON of the item).
 * batches: the last `historyLimit` committed batches, for followers that resume from a revision.
 * meta:    key/value; `rev` is the current revision, kept here so it survives compaction of
 *          every batch (the batches table alone cannot tell the revision once it is empty).
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS items (
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (kind, namespace, name)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS batches (
    rev INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    changes TEXT NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value ANY
  ) STRICT;
  INSERT OR IGNORE INTO meta (key, value) VALUES ('rev', 0);
`;

interface ItemRow {
  kind: Kind;
  namespace: string;
  name: string;
  item: string;
}

interface BatchRow {
  rev: number;
  at: string;
  changes: string;
}

/** One watch() subscription. `next` is the lowest revision it still expects, so no batch reaches it twice. */
interface Watcher {
  next: number;
  onBatch: (batch: ChangeBatch) => void;
  onReset: () => void;
  active: boolean;
}

/**
 * The embedded store (`storage.type: file`): an SQLite database in WAL mode with
 * `synchronous = FULL`, so a commit is on disk once the transaction returns. Each commit is one
 * write transaction that updates the items, appends the batch, bumps the revision and compacts
 * history. Watchers get this process's commits as they are made, and the commits of other
 * processes on the same file (another gateway, `dgate-cli`-like tools) within `pollMs`: while
 * anyone watches, the store polls SQLite's `data_version`, which changes when another connection
 * commits, and then reads the new batches from history.
 */
export class SqliteStore implements ChangeStore {
  readonly type = 'file';
  readonly #db: SqlDatabase;
  readonly #q: Queries;
  readonly #watchers = new Set<Watcher>();
  /** committed batches not yet handed to every watcher (see #withDelivery) */
  readonly #pending: ChangeBatch[] = [];
  #delivering = false;
  #closed = false;
  /** highest revision queued for delivery (every batch up to it was handed to the watchers) */
  #seen: number;
  #dataVersion: number;
  #poll: NodeJS.Timeout | null = null;
  readonly #pollMs: number;

  constructor(opts: SqliteStoreOptions) {
    const historyLimit = opts.historyLimit ?? 1000;
    if (!Number.isSafeInteger(historyLimit) || historyLimit < 0) {
      throw Errors.STORE(`historyLimit must be a non-negative integer, got ${historyLimit}`);
    }
    let db: SqlDatabase | undefined;
    try {
      mkdirSync(opts.dir, { recursive: true });
      db = openDatabase(join(opts.dir, 'dgate.db'));
      const mode = db.pragma('journal_mode = WAL');
      if (mode !== 'wal') throw new Error(`could not enable WAL journal mode (got ${String(mode)})`);
      db.pragma('synchronous = FULL');
      migrate(db);
      this.#q = queries(db, historyLimit);
    } catch (err) {
      db?.close();
      throw storeError(err);
    }
    this.#db = db;
    this.#seen = this.#q.rev();
    this.#dataVersion = this.#q.dataVersion();
    this.#pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  }

  async load(): Promise<Snapshot> {
    this.#assertOpen();
    return guard(() => this.#q.load());
  }

  async commit(changes: Change[], opts: CommitOptions = {}): Promise<number> {
    this.#assertOpen();
    const at = new Date().toISOString();
    const json = guard(() => JSON.stringify(changes));
    let rev: number;
    try {
      rev = guard(() => this.#q.commit(changes, json, at, opts.expectRev));
    } catch (err) {
      // Another process committed first: let the watchers see its batches now rather than at the next poll.
      if (err instanceof GatewayError && err.code === 'DG_ERR_REVISION_CONFLICT') this.#catchUp();
      throw err;
    }
    // Batches other processes committed before this one reach the watchers first.
    if (rev > this.#seen + 1) this.#catchUp(rev - 1);
    this.#seen = Math.max(this.#seen, rev);
    // Parsed back from the stored JSON: watchers get their own copy, not the caller's objects.
    this.#deliverAll({ rev, at, changes: JSON.parse(json) as Change[] });
    return rev;
  }

  watch(fromRev: number, onBatch: (batch: ChangeBatch) => void, onReset: () => void): Unsubscribe {
    this.#assertOpen();
    const replay = guard(() => this.#q.resume(fromRev));
    if (replay === 'compacted') {
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled && !this.#closed) onReset();
      });
      return () => {
        cancelled = true;
      };
    }
    const watcher: Watcher = { next: fromRev, onBatch, onReset, active: true };
    this.#watchers.add(watcher);
    this.#startPolling();
    this.#withDelivery(() => {
      for (const batch of replay) this.#deliver(watcher, batch);
    });
    return () => {
      watcher.active = false;
      this.#watchers.delete(watcher);
      if (this.#watchers.size === 0) this.#stopPolling();
    };
  }

  async history(fromRev: number, limit: number): Promise<ChangeBatch[]> {
    this.#assertOpen();
    if (!(limit > 0)) return [];
    // LIMIT -1 is SQLite for "no limit".
    const max = Number.isSafeInteger(limit) ? limit : Number.isFinite(limit) ? Math.floor(limit) : -1;
    return guard(() => this.#q.history(fromRev, max));
  }

  async oldestRev(): Promise<number> {
    this.#assertOpen();
    return guard(() => this.#q.oldestRev());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopPolling();
    for (const w of this.#watchers) w.active = false;
    this.#watchers.clear();
    this.#pending.length = 0;
    guard(() => this.#db.close());
  }

  #startPolling(): void {
    if (this.#poll !== null || this.#closed) return;
    this.#poll = setInterval(() => {
      if (this.#closed) return;
      let version: number;
      try {
        version = this.#q.dataVersion();
      } catch {
        return; // the next tick tries again
      }
      if (version === this.#dataVersion) return;
      this.#dataVersion = version;
      this.#catchUp();
    }, this.#pollMs);
    this.#poll.unref();
  }

  #stopPolling(): void {
    if (this.#poll !== null) clearInterval(this.#poll);
    this.#poll = null;
  }

  /**
   * Hands the watchers every batch committed (by anyone) after the last one they were given, up
   * to `toRev`. Watchers that need batches already compacted away are reset instead.
   */
  #catchUp(toRev = Number.MAX_SAFE_INTEGER): void {
    if (this.#closed || this.#watchers.size === 0) {
      this.#seen = Math.max(this.#seen, Math.min(toRev, this.#q.rev()));
      return;
    }
    let batches: ChangeBatch[];
    try {
      batches = this.#q.history(this.#seen + 1, -1).filter((b) => b.rev <= toRev);
    } catch {
      return; // the next poll tries again
    }
    const first = batches[0]?.rev;
    const head = Math.min(toRev, this.#q.rev());
    if (head > this.#seen && first !== this.#seen + 1) {
      // History no longer holds what the watchers need next: they reload.
      const missing = this.#seen + 1;
      for (const w of [...this.#watchers]) {
        if (w.next > missing) continue;
        w.active = false;
        this.#watchers.delete(w);
        queueMicrotask(() => {
          if (!this.#closed) w.onReset();
        });
      }
      if (this.#watchers.size === 0) this.#stopPolling();
    }
    this.#seen = Math.max(this.#seen, head);
    for (const b of batches) this.#pending.push(b);
    this.#withDelivery(() => {});
  }

  /** Queues a committed batch for every watcher and delivers it (now, or when the ongoing delivery ends). */
  #deliverAll(batch: ChangeBatch): void {
    this.#pending.push(batch);
    this.#withDelivery(() => {});
  }

  /**
   * Runs `fn` (a replay), then hands out queued batches in revision order. A listener that
   * commits or watches from inside a callback only queues work, so every watcher still sees
   * batches in order, each exactly once.
   */
  #withDelivery(fn: () => void): void {
    if (this.#delivering) {
      fn();
      return;
    }
    this.#delivering = true;
    try {
      fn();
      for (let batch = this.#pending.shift(); batch; batch = this.#pending.shift()) {
        for (const w of [...this.#watchers]) this.#deliver(w, batch);
      }
    } finally {
      this.#delivering = false;
    }
  }

  #deliver(w: Watcher, batch: ChangeBatch): void {
    if (!w.active || batch.rev < w.next) return;
    w.next = batch.rev + 1;
    try {
      w.onBatch(batch);
    } catch (err) {
      // A broken follower must not undo a durable commit nor starve the other watchers.
      process.emitWarning(`store watcher threw on revision ${batch.rev}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, {
        code: 'DGATE_STORE_WATCHER',
      });
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw Errors.STORE('the store is closed');
  }
}

function migrate(db: SqlDatabase): void {
  db.transaction(() => {
    const version = db.pragma('user_version') as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`database schema version ${version} is newer than this gateway supports (${SCHEMA_VERSION})`);
    }
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

type Queries = ReturnType<typeof queries>;

/** Every database operation of the store, with statements and transactions prepared once per connection. */
function queries(db: SqlDatabase, historyLimit: number) {
  const stmt = {
    getRev: db.prepare(`SELECT value FROM meta WHERE key = 'rev'`),
    setRev: db.prepare(`UPDATE meta SET value = ? WHERE key = 'rev'`),
    allItems: db.prepare(`SELECT kind, namespace, name, item FROM items ORDER BY kind, namespace, name`),
    putItem: db.prepare(
      `INSERT INTO items (kind, namespace, name, item) VALUES (?, ?, ?, ?)
       ON CONFLICT (kind, namespace, name) DO UPDATE SET item = excluded.item`,
    ),
    deleteItem: db.prepare(`DELETE FROM items WHERE kind = ? AND namespace = ? AND name = ?`),
    insertBatch: db.prepare(`INSERT INTO batches (rev, at, changes) VALUES (?, ?, ?)`),
    compact: db.prepare(`DELETE FROM batches WHERE rev <= ?`),
    history: db.prepare(`SELECT rev, at, changes FROM batches WHERE rev >= ? ORDER BY rev LIMIT ?`),
    oldestRev: db.prepare(`SELECT MIN(rev) FROM batches`),
  };
  const dataVersion = () => db.pragma('data_version') as number;
  const rev = () => stmt.getRev.value() as number;
  const oldest = () => stmt.oldestRev.value() as number | null;
  const history = (fromRev: number, limit: number) => (stmt.history.all(fromRev, limit) as BatchRow[]).map(toBatch);

  const load = db.transaction((): Snapshot => ({ rev: rev(), items: (stmt.allItems.all() as ItemRow[]).map(toStoredItem) }));

  /** applies one batch: items, history, revision and compaction move together or not at all */
  const commit = db.transaction((changes: Change[], json: string, at: string, expectRev: number | undefined): number => {
    const current = rev();
    if (expectRev !== undefined && expectRev !== current) throw Errors.REVISION_CONFLICT(expectRev, current);
    const next = current + 1;
    for (const c of changes) {
      if (c.op === 'put') stmt.putItem.run(c.kind, c.namespace, c.name, JSON.stringify(c.item));
      else if (c.op === 'delete') stmt.deleteItem.run(c.kind, c.namespace, c.name);
      else throw new Error(`unknown change op ${JSON.stringify((c as { op: unknown }).op)}`);
    }
    stmt.insertBatch.run(next, at, json);
    stmt.setRev.run(next);
    stmt.compact.run(next - historyLimit);
    return next;
  });

  /**
   * The batches a watcher starting at fromRev must replay, or 'compacted' when the first of them
   * is no longer held. Revisions start at 1, so fromRev 0 means "from the beginning".
   */
  const resume = db.transaction((fromRev: number): ChangeBatch[] | 'compacted' => {
    const current = rev();
    const first = oldest() ?? current + 1;
    if (fromRev <= current && Math.max(fromRev, 1) < first) return 'compacted';
    return history(fromRev, -1);
  });

  return {
    load: () => load.deferred(),
    // IMMEDIATE takes the write lock up front, so the revision read inside cannot go stale.
    commit: (changes: Change[], json: string, at: string, expectRev: number | undefined) => commit.immediate(changes, json, at, expectRev),
    resume: (fromRev: number) => resume.deferred(fromRev),
    history,
    rev,
    dataVersion,
    oldestRev: () => oldest() ?? 0,
  };
}

function toStoredItem(row: ItemRow): StoredItem {
  return { kind: row.kind, namespace: row.namespace, name: row.name, item: JSON.parse(row.item) as Resource };
}

function toBatch(row: BatchRow): ChangeBatch {
  return { rev: row.rev, at: row.at, changes: JSON.parse(row.changes) as Change[] };
}

/** Runs a database call, turning driver failures into DG_ERR_STORE (gateway errors pass through). */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw storeError(err);
  }
}

function storeError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const wrapped = Errors.STORE(err instanceof Error ? err.message : String(err));
  wrapped.cause = err;
  return wrapped;
}

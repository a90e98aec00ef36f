/**
 * The shared store (`storage.type: etcd`): every node of a cluster commits to and follows the same
 * etcd keys. Key layout under `storage.prefix` (P, default `/dgate/`):
 *
 *   P rev                               current revision (decimal); absent = 0
 *   P log/<rev, 16 digits>              one committed batch: {"at", "changes"} or, when too large
 *                                       for one etcd request, {"at", "chunks": {"id", "count"}}
 *   P chunk/<rev>/<id>/<i, 6 digits>    pieces of a large batch's JSON (concatenated in key order)
 *   P snapshot                          {"rev", "id", "count", "items", "at"}: the newest compacted state
 *   P snap/<rev>/<id>/<i, 6 digits>     pieces of that state's JSON (StoredItem[])
 *
 * A commit is ONE etcd transaction: `if rev == expected then put rev = expected + 1, put log/<rev>`.
 * A batch larger than CHUNK_BYTES is first written as chunk keys nothing references yet; the log
 * entry then references them, so a batch of any size commits atomically within etcd's stock
 * limits (128 operations, 1.5 MiB per request). Chunks of a refused commit are removed at once,
 * those of a crashed one when compaction passes their revision.
 *
 * load() = the snapshot + the log entries after it, read at one etcd revision. Every
 * `snapshotEvery` revisions (for a snapshot of more than 10 x snapshotEvery items: once the
 * revisions since it reach a tenth of its items, so that rewriting a large state costs at most
 * ~10 items per revision, but at least every `storage.history` revisions, so that the log never
 * holds more than twice the history) the node that committed writes a new snapshot and deletes
 * the log entries (and their chunks) older than `storage.history` revisions, once its commits
 * pause for 300 ms (a burst of writes does not wait on it), or at once when the revisions since
 * the snapshot reach `storage.history`; in one transaction guarded by the snapshot
 * key's modification revision, so two nodes compacting at once stay correct. history() and
 * oldestRev() show exactly the last `storage.history` revisions.
 *
 * watch() reads the log from the wanted revision and is woken by an etcd watch on P log/; every
 * wake-up reads the log from the next revision it still owes, so batches arrive in order, exactly
 * once, whatever etcd's own watch does (reconnects, etcd compaction). A gap (entries deleted by
 * compaction before they were delivered) calls onReset.
 */
import { randomUUID } from 'node:crypto';
import { GRPCCancelledError, GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import type { Etcd3, IKeyValue, IRangeRequest, IRequestOp, ITxnRequest, ITxnResponse, Watcher as EtcdWatcher } from 'etcd3';
import type { Change, ChangeBatch } from '../core/change.js';
import { itemKey } from '../core/change.js';
import { Errors, GatewayError } from '../core/errors.js';
import type { ChangeStore, CommitOptions, Snapshot, StoredItem, Unsubscribe } from './store.js';

export interface EtcdStoreOptions {
  client: Etcd3;
  /** key prefix of this gateway's data (`storage.prefix`) */
  prefix: string;
  /** how many revisions of history to keep; default 1000 */
  historyLimit?: number;
  /** revisions between two snapshots (and physical compactions); default 100 */
  snapshotEvery?: number;
  /** close the client with the store (when the store was given its own client) */
  closeClient?: boolean;
}

/** Largest value written in one request: under etcd's default 1.5 MiB request limit with room for keys. */
export const CHUNK_BYTES = 1024 * 1024;

const REV_DIGITS = 16;
/** A commit gives up after this long when etcd cannot commit (admin writes answer 503 within 2 s). */
const COMMIT_BUDGET_MS = 1900;
/** deadline of one attempt of the commit transaction */
const COMMIT_ATTEMPT_MS = 600;
/** an attempt is not started with less time than this left */
const COMMIT_RETRY_MIN_MS = 150;
const COMMIT_RETRY_PAUSE_MS = 50;
const CHUNK_DIGITS = 6;
/** A snapshot is not rewritten before revisions since it reach its item count / this. */
const ITEMS_PER_REVISION = 10;
/**
 * A compaction that is due waits until this node's commits pause this long (ms), up to
 * `historyLimit` revisions since the snapshot: its reads, its snapshot write and its transaction
 * (two more etcd proposals) then do not delay the commits and watchers of a burst of writes.
 */
const COMPACT_QUIET_MS = 300;

interface LogValue {
  at: string;
  changes?: Change[];
  chunks?: { id: string; count: number };
}

interface SnapshotPointer {
  rev: number;
  id: string;
  count: number;
  /** items in the snapshot (absent from snapshots written by older versions) */
  items?: number;
  at: string;
}

interface Subscription {
  next: number;
  active: boolean;
  onBatch: (batch: ChangeBatch) => void;
  onReset: () => void;
  etcdWatcher: EtcdWatcher | null;
  /** the log read under way, if any: reads of one subscription never overlap */
  inflight: Promise<number | null> | null;
  again: boolean;
}

export class EtcdStore implements ChangeStore {
  readonly type = 'etcd';
  readonly #client: Etcd3;
  readonly #p: string;
  readonly #historyLimit: number;
  readonly #snapshotEvery: number;
  readonly #closeClient: boolean;
  readonly #subs = new Set<Subscription>();
  #compaction: Promise<unknown> | null = null;
  /** a compaction due, waiting for this node's commits to pause */
  #compactTimer: NodeJS.Timeout | null = null;
  /** the newest revision this node committed when a compaction became due */
  #compactHint = 0;
  /** revision and items of the newest snapshot this node has seen: spare a read per commit */
  #knownSnapRev = 0;
  #knownSnapItems = 0;
  #closed = false;

  constructor(opts: EtcdStoreOptions) {
    const historyLimit = opts.historyLimit ?? 1000;
    if (!Number.isSafeInteger(historyLimit) || historyLimit < 0) {
      throw Errors.STORE(`historyLimit must be a non-negative integer, got ${historyLimit}`);
    }
    const every = opts.snapshotEvery ?? 100;
    if (!Number.isSafeInteger(every) || every < 1) throw Errors.STORE(`snapshotEvery must be a positive integer, got ${every}`);
    this.#client = opts.client;
    this.#p = opts.prefix;
    this.#historyLimit = historyLimit;
    this.#snapshotEvery = every;
    this.#closeClient = opts.closeClient ?? false;
  }

  // ---- keys ----

  #k(suffix: string): Buffer {
    return Buffer.from(this.#p + suffix);
  }
  #logKey(rev: number): Buffer {
    return this.#k(`log/${pad(rev, REV_DIGITS)}`);
  }
  /** end of the key range `<base>…`: the prefix with its last byte incremented */
  static #end(prefix: Buffer): Buffer {
    const end = Buffer.from(prefix);
    for (let i = end.length - 1; i >= 0; i--) {
      if (end[i]! < 0xff) {
        end[i]! += 1;
        return end.subarray(0, i + 1);
      }
    }
    return Buffer.from([0]);
  }
  #prefixRange(suffix: string): { key: Buffer; range_end: Buffer } {
    const key = this.#k(suffix);
    return { key, range_end: EtcdStore.#end(key) };
  }

  // ---- ChangeStore ----

  async load(): Promise<Snapshot> {
    this.#assertOpen();
    return guard(async () => {
      const s = await this.#readState();
      return { rev: s.rev, items: s.items };
    });
  }

  /** A linearizable read of the revision counter: fails while etcd has no quorum or cannot be reached. */
  async health(): Promise<void> {
    this.#assertOpen();
    await guard(async () => {
      await this.#client.get(this.#p + 'rev').string();
    });
  }

  async commit(changes: Change[], opts: CommitOptions = {}): Promise<number> {
    this.#assertOpen();
    const at = new Date().toISOString();
    const body = Buffer.from(JSON.stringify({ at, changes } satisfies LogValue));
    return guard(async () => {
      for (;;) {
        const current = opts.expectRev ?? (await this.#readCounter());
        const next = current + 1;
        let value = body;
        let chunkPrefix: string | null = null;
        if (body.length > CHUNK_BYTES) {
          const id = randomUUID();
          chunkPrefix = `chunk/${pad(next, REV_DIGITS)}/${id}/`;
          const count = await this.#writeChunks(chunkPrefix, body);
          value = Buffer.from(JSON.stringify({ at, chunks: { id, count } } satisfies LogValue));
        }
        // On an error (e.g. a timeout) the outcome is unknown, the commit may have gone through:
        // its chunks are then left to compaction.
        const { res, retried } = await this.#txnWithinBudget({
          compare: [this.#counterIs(current)],
          success: [
            { request_put: { key: this.#k('rev'), value: Buffer.from(String(next)) } },
            { request_put: { key: this.#logKey(next), value } },
          ],
          failure: [{ request_range: { key: this.#k('rev') } }, { request_range: { key: this.#logKey(next) } }],
        });
        // An attempt that timed out may have gone through: then the retry finds the counter moved
        // and this very batch at `next`, which is this commit's revision (not a conflict to commit again).
        const mine = retried && !res.succeeded && res.responses[1]?.response_range.kvs[0]?.value.equals(value) === true;
        if (res.succeeded || mine) {
          this.#maybeCompact(next);
          return next;
        }
        if (chunkPrefix !== null) await this.#deleteQuietly(chunkPrefix);
        const actual = counterOf(res.responses[0]?.response_range.kvs[0]);
        if (opts.expectRev !== undefined) throw Errors.REVISION_CONFLICT(opts.expectRev, actual);
      }
    });
  }

  /**
   * The commit transaction, tried in short attempts within COMMIT_BUDGET_MS: while etcd elects a
   * new leader (a member lost) a proposal waits until its deadline, so one long attempt would fail
   * where a second, after the election, goes through; with quorum lost every attempt fails and
   * the write is refused within the budget. A retried CAS cannot commit twice: if an attempt that
   * timed out did go through, the next one finds the counter moved (`retried` tells the caller to
   * look whether the batch it finds there is its own).
   */
  async #txnWithinBudget(req: ITxnRequest): Promise<{ res: ITxnResponse; retried: boolean }> {
    const end = Date.now() + COMMIT_BUDGET_MS;
    for (let retried = false; ; retried = true) {
      const left = end - Date.now();
      try {
        return { res: await this.#client.kv.txn(req, { deadline: Date.now() + Math.min(COMMIT_ATTEMPT_MS, left) }), retried };
      } catch (err) {
        if (!isUnreachable(err) || end - Date.now() < COMMIT_RETRY_MIN_MS || this.#closed) throw err;
        await new Promise((r) => setTimeout(r, COMMIT_RETRY_PAUSE_MS));
      }
    }
  }

  watch(fromRev: number, onBatch: (batch: ChangeBatch) => void, onReset: () => void): Unsubscribe {
    this.#assertOpen();
    const sub: Subscription = {
      next: Math.max(fromRev, 1),
      active: true,
      onBatch,
      onReset,
      etcdWatcher: null,
      inflight: null,
      again: false,
    };
    this.#subs.add(sub);
    void this.#startWatch(sub, fromRev);
    return () => this.#unsubscribe(sub);
  }

  async history(fromRev: number, limit: number): Promise<ChangeBatch[]> {
    this.#assertOpen();
    if (!(limit > 0)) return [];
    return guard(async () => {
      const { rev, oldest, header } = await this.#readBounds();
      if (oldest === 0) return [];
      const from = Math.max(fromRev, oldest);
      if (from > rev) return [];
      // 0 = no limit for etcd
      const max = Number.isFinite(limit) ? Math.max(1, Math.floor(limit)) : 0;
      const res = await this.#range({ key: this.#logKey(from), range_end: this.#logKey(rev + 1), limit: max, revision: header });
      return this.#toBatches(res, header);
    });
  }

  async oldestRev(): Promise<number> {
    this.#assertOpen();
    return guard(async () => (await this.#readBounds()).oldest);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // a compaction waiting for a pause is left to the next commit of any node
    if (this.#compactTimer !== null) clearTimeout(this.#compactTimer);
    this.#compactTimer = null;
    for (const sub of [...this.#subs]) this.#unsubscribe(sub);
    await this.#compaction?.catch(() => {});
    if (this.#closeClient) this.#client.close();
  }

  // ---- reads ----

  async #range(req: IRangeRequest): Promise<IKeyValue[]> {
    return (await this.#client.kv.range(req)).kvs;
  }

  async #readCounter(): Promise<number> {
    return counterOf((await this.#range({ key: this.#k('rev') }))[0]);
  }

  /** counter compare for a CAS: absent key when expecting 0 */
  #counterIs(rev: number) {
    return rev === 0
      ? { key: this.#k('rev'), target: 'Version' as const, result: 'Equal' as const, version: 0 }
      : { key: this.#k('rev'), target: 'Value' as const, result: 'Equal' as const, value: Buffer.from(String(rev)) };
  }

  /** Several ranges read at one etcd revision (a read-only transaction). */
  async #readTogether(ranges: IRangeRequest[]): Promise<{ header: number; results: IKeyValue[][] }> {
    const ops: IRequestOp[] = ranges.map((r) => ({ request_range: r }));
    const res = await this.#client.kv.txn({ compare: [], success: ops, failure: [] });
    return { header: Number(res.header.revision), results: res.responses.map((r) => r.response_range.kvs) };
  }

  /** current revision, first physical log entry, visible oldest revision, at one etcd revision */
  async #readBounds(): Promise<{ rev: number; oldest: number; physicalOldest: number; header: number }> {
    const { header, results } = await this.#readTogether([
      { key: this.#k('rev') },
      { ...this.#prefixRange('log/'), limit: 1, keys_only: true },
    ]);
    const rev = counterOf(results[0]![0]);
    const firstKey = results[1]![0]?.key;
    const physicalOldest = firstKey ? revOfLogKey(firstKey) : 0;
    let oldest = physicalOldest === 0 ? 0 : Math.max(physicalOldest, rev - this.#historyLimit + 1);
    if (oldest > rev) oldest = 0;
    return { rev, oldest, physicalOldest, header };
  }

  /** The state: snapshot + log after it, all read at one etcd revision. */
  async #readState(): Promise<{ rev: number; items: StoredItem[]; pointerModRev: number; snapRev: number }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { header, results } = await this.#readTogether([{ key: this.#k('rev') }, { key: this.#k('snapshot') }]);
        const rev = counterOf(results[0]![0]);
        const pointerKv = results[1]![0];
        const pointer = pointerKv ? (JSON.parse(pointerKv.value.toString()) as SnapshotPointer) : null;
        const items = new Map<string, StoredItem>();
        if (pointer) {
          const json = await this.#readChunks(`snap/${pad(pointer.rev, REV_DIGITS)}/${pointer.id}/`, pointer.count, header);
          for (const it of JSON.parse(json) as StoredItem[]) items.set(itemKey(it.kind, it.namespace, it.name), it);
        }
        const snapRev = pointer?.rev ?? 0;
        if (rev > snapRev) {
          const log = await this.#range({ key: this.#logKey(snapRev + 1), range_end: this.#logKey(rev + 1), revision: header });
          const batches = await this.#toBatches(log, header);
          let expected = snapRev + 1;
          for (const b of batches) {
            if (b.rev !== expected) throw new Error(`log entry ${expected} is missing (found ${b.rev})`);
            expected++;
            for (const c of b.changes) {
              const key = itemKey(c.kind, c.namespace, c.name);
              if (c.op === 'put') items.set(key, { kind: c.kind, namespace: c.namespace, name: c.name, item: c.item });
              else items.delete(key);
            }
          }
          if (expected !== rev + 1) throw new Error(`log entries ${expected}..${rev} are missing`);
        }
        return { rev, items: [...items.values()], pointerModRev: pointerKv ? Number(pointerKv.mod_revision) : 0, snapRev };
      } catch (err) {
        // etcd compacted the revision read at between two reads: read again at a newer one
        if (attempt < 3 && isEtcdCompacted(err)) continue;
        throw err;
      }
    }
  }

  async #readChunks(prefix: string, count: number, revision: number): Promise<string> {
    const kvs = await this.#range({ ...this.#prefixRange(prefix), revision });
    if (kvs.length !== count) throw new Error(`${this.#p}${prefix}: ${kvs.length} of ${count} chunks present`);
    return Buffer.concat(kvs.map((kv) => kv.value)).toString();
  }

  async #toBatches(kvs: IKeyValue[], revision: number): Promise<ChangeBatch[]> {
    const out: ChangeBatch[] = [];
    for (const kv of kvs) {
      const rev = revOfLogKey(kv.key);
      const v = JSON.parse(kv.value.toString()) as LogValue;
      let changes = v.changes;
      if (v.chunks) {
        const json = await this.#readChunks(`chunk/${pad(rev, REV_DIGITS)}/${v.chunks.id}/`, v.chunks.count, revision);
        changes = (JSON.parse(json) as LogValue).changes;
      }
      out.push({ rev, at: v.at, changes: changes ?? [] });
    }
    return out;
  }

  // ---- writes ----

  async #writeChunks(prefix: string, body: Buffer): Promise<number> {
    let count = 0;
    for (let off = 0; off < body.length; off += CHUNK_BYTES) {
      await this.#client.kv.put({ key: this.#k(prefix + pad(count, CHUNK_DIGITS)), value: body.subarray(off, off + CHUNK_BYTES) });
      count++;
    }
    return count;
  }

  async #deleteQuietly(prefix: string): Promise<void> {
    try {
      await this.#client.kv.deleteRange(this.#prefixRange(prefix));
    } catch {
      // left for compaction, which removes every chunk below its revision
    }
  }

  /**
   * Starts a compaction in the background when enough revisions passed since the snapshot: once
   * this node's commits pause for COMPACT_QUIET_MS, or at once when the revisions since the
   * snapshot reach `historyLimit` (or the interval, when larger).
   */
  #maybeCompact(rev: number): void {
    if (this.#closed) return;
    const since = rev - this.#knownSnapRev;
    const interval = this.#interval(this.#knownSnapItems);
    if (since < interval) return;
    this.#compactHint = Math.max(this.#compactHint, rev);
    if (this.#compactTimer !== null) clearTimeout(this.#compactTimer);
    this.#compactTimer = null;
    if (since >= Math.max(interval, this.#historyLimit)) {
      this.#startCompaction();
      return;
    }
    this.#compactTimer = setTimeout(() => {
      this.#compactTimer = null;
      this.#startCompaction();
    }, COMPACT_QUIET_MS);
    this.#compactTimer.unref();
  }

  #startCompaction(): void {
    if (this.#compaction !== null || this.#closed) return;
    this.#compaction = this.#compact(this.#compactHint, false)
      .catch((err: unknown) => {
        process.emitWarning(`etcd store compaction failed: ${err instanceof Error ? err.message : String(err)}`, { code: 'DGATE_STORE_COMPACTION' });
      })
      .finally(() => {
        this.#compaction = null;
      });
  }

  /**
   * Writes a snapshot of the current state now and removes history older than `historyLimit`
   * revisions (commits do it by themselves every `snapshotEvery` revisions). For tests and tools.
   */
  async compactNow(): Promise<void> {
    this.#assertOpen();
    await this.#compaction?.catch(() => {});
    return guard(async () => {
      // another node may win the race: then compact again, from its snapshot on
      for (let i = 0; i < 5 && !(await this.#compact(0, true)); i++);
    });
  }

  /**
   * Revisions after a snapshot of `items` items before the next one: snapshotEvery, or a tenth of
   * the items for a large state (10,000 routes are ~2.5 MB of JSON to write, and garbage to
   * collect, each time), up to the history kept.
   */
  #interval(items: number): number {
    return Math.max(this.#snapshotEvery, Math.min(Math.ceil(items / ITEMS_PER_REVISION), this.#historyLimit));
  }

  #sawSnapshot(rev: number, items: number): void {
    if (rev < this.#knownSnapRev) return;
    this.#knownSnapRev = rev;
    this.#knownSnapItems = items;
  }

  /** One compaction attempt; false when another node's compaction got in first. */
  async #compact(hint: number, force: boolean): Promise<boolean> {
    if (!force && hint - this.#knownSnapRev < this.#interval(this.#knownSnapItems)) return true;
    const pointer = await this.#range({ key: this.#k('snapshot') });
    const current = pointer[0] ? (JSON.parse(pointer[0].value.toString()) as SnapshotPointer) : null;
    const snapRev = current?.rev ?? 0;
    const every = this.#interval(current?.items ?? 0);
    this.#sawSnapshot(snapRev, current?.items ?? 0);
    if (!force && hint - snapRev < every) return true;
    const state = await this.#readState();
    if (!force && state.rev - state.snapRev < every) return true;
    if (state.rev === state.snapRev) return true;
    const S = state.rev;
    const id = randomUUID();
    const chunkPrefix = `snap/${pad(S, REV_DIGITS)}/${id}/`;
    // keys made once (not twice per comparison: 10,000 items would make ~280,000 key strings)
    const items = state.items
      .map((it) => ({ key: itemKey(it.kind, it.namespace, it.name), it }))
      .sort((a, b) => cmp(a.key, b.key))
      .map((k) => k.it);
    const count = await this.#writeChunks(chunkPrefix, Buffer.from(JSON.stringify(items)));
    const keepFrom = Math.max(1, S - this.#historyLimit + 1);
    const pointerValue: SnapshotPointer = { rev: S, id, count, items: items.length, at: new Date().toISOString() };
    const res = await this.#client.kv.txn({
      compare: [
        state.pointerModRev === 0
          ? { key: this.#k('snapshot'), target: 'Version', result: 'Equal', version: 0 }
          : { key: this.#k('snapshot'), target: 'Mod', result: 'Equal', mod_revision: state.pointerModRev },
      ],
      success: [
        { request_put: { key: this.#k('snapshot'), value: Buffer.from(JSON.stringify(pointerValue)) } },
        { request_delete_range: { key: this.#k('snap/'), range_end: this.#k(`snap/${pad(S, REV_DIGITS)}`) } },
        { request_delete_range: { key: this.#k('log/'), range_end: this.#logKey(keepFrom) } },
        { request_delete_range: { key: this.#k('chunk/'), range_end: this.#k(`chunk/${pad(keepFrom, REV_DIGITS)}`) } },
      ],
      failure: [],
    });
    if (res.succeeded) {
      this.#sawSnapshot(S, items.length);
      return true;
    }
    await this.#deleteQuietly(chunkPrefix);
    return false;
  }

  // ---- watch ----

  async #startWatch(sub: Subscription, fromRev: number): Promise<void> {
    try {
      const { rev, oldest } = await this.#readBounds();
      if (!sub.active) return;
      // Batches fromRev..rev are needed; revisions start at 1, so fromRev 0 means "from the beginning".
      const first = oldest === 0 ? rev + 1 : oldest;
      if (fromRev <= rev && Math.max(fromRev, 1) < first) {
        this.#reset(sub);
        return;
      }
      await this.#follow(sub);
    } catch (err) {
      this.#retryLater(sub, err);
    }
  }

  /** Reads what is owed, then (re)creates the etcd watch from the revision of that read. */
  async #follow(sub: Subscription): Promise<void> {
    const header = await this.#pull(sub);
    if (!sub.active || header === null) return;
    const w = await this.#client.watch().prefix(this.#p + 'log/').startRevision(String(header + 1)).create();
    if (!sub.active) {
      void w.cancel().catch(() => {});
      return;
    }
    sub.etcdWatcher = w;
    w.on('put', (kv) => {
      if (!this.#deliverFromEvent(sub, kv)) this.#schedulePull(sub);
    });
    w.on('connected', () => this.#schedulePull(sub));
    w.on('error', (err) => {
      // e.g. etcd compacted the revision the watch must resume from: read from our log and watch anew
      if (sub.etcdWatcher !== w) return;
      sub.etcdWatcher = null;
      void w.cancel().catch(() => {});
      this.#retryLater(sub, err);
    });
  }

  /**
   * The common case without a read: the watch event is the next log entry, whole (not chunked),
   * and no read is under way. Returns false when the log must be read instead.
   */
  #deliverFromEvent(sub: Subscription, kv: IKeyValue): boolean {
    if (!sub.active || sub.inflight) return false;
    const rev = revOfLogKey(kv.key);
    if (rev < sub.next) return true;
    if (rev !== sub.next) return false;
    let v: LogValue;
    try {
      v = JSON.parse(kv.value.toString()) as LogValue;
    } catch {
      return false;
    }
    if (!Array.isArray(v.changes)) return false;
    sub.next = rev + 1;
    this.#deliver(sub, { rev, at: v.at, changes: v.changes });
    return true;
  }

  #deliver(sub: Subscription, b: ChangeBatch): void {
    try {
      sub.onBatch(b);
    } catch (err) {
      // A broken follower must not starve the other watchers.
      process.emitWarning(`store watcher threw on revision ${b.rev}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, {
        code: 'DGATE_STORE_WATCHER',
      });
    }
  }

  #schedulePull(sub: Subscription, failures = 0): void {
    if (!sub.active) return;
    if (sub.inflight) {
      sub.again = true;
      return;
    }
    void this.#pull(sub).catch((err: unknown) => {
      if (!sub.active) return;
      if (failures === 0) {
        process.emitWarning(`etcd store watch could not read the log, retrying: ${err instanceof Error ? err.message : String(err)}`, { code: 'DGATE_STORE_WATCH' });
      }
      // the batch that woke us is still owed: read again, backing off up to 1 s
      setTimeout(() => this.#schedulePull(sub, failures + 1), Math.min(1000, 100 * 2 ** failures)).unref();
    });
  }

  /**
   * Delivers every committed batch from sub.next on, in order; returns the etcd revision read at
   * (null when the subscription ended). Calls run one at a time per subscription.
   */
  #pull(sub: Subscription): Promise<number | null> {
    if (sub.inflight) {
      // the read under way goes round once more, so it also covers what this caller wants
      sub.again = true;
      return sub.inflight;
    }
    const p = this.#pullLoop(sub).finally(() => {
      sub.inflight = null;
    });
    sub.inflight = p;
    return p;
  }

  async #pullLoop(sub: Subscription): Promise<number | null> {
    let header = 0;
    do {
      sub.again = false;
      const res = await this.#readTogether([{ key: this.#k('rev') }, { key: this.#logKey(sub.next), range_end: EtcdStore.#end(this.#k('log/')) }]);
      header = res.header;
      const rev = counterOf(res.results[0]![0]);
      const kvs = res.results[1]!;
      const firstRev = kvs[0] ? revOfLogKey(kvs[0].key) : rev + 1;
      if (sub.next <= rev && firstRev > sub.next) {
        this.#reset(sub);
        return null;
      }
      const batches = await this.#toBatches(kvs, header);
      for (const b of batches) {
        if (!sub.active) return null;
        if (b.rev < sub.next) continue;
        sub.next = b.rev + 1;
        this.#deliver(sub, b);
      }
    } while (sub.again && sub.active);
    return sub.active ? header : null;
  }

  #retryLater(sub: Subscription, err: unknown, failures = 0): void {
    if (!sub.active || this.#closed) return;
    if (failures === 0) {
      process.emitWarning(`etcd store watch interrupted, resuming: ${err instanceof Error ? err.message : String(err)}`, { code: 'DGATE_STORE_WATCH' });
    }
    setTimeout(() => {
      if (!sub.active) return;
      this.#follow(sub).catch((e: unknown) => this.#retryLater(sub, e, failures + 1));
    }, Math.min(1000, 100 * 2 ** failures)).unref();
  }

  #reset(sub: Subscription): void {
    if (!sub.active) return;
    this.#unsubscribe(sub);
    try {
      sub.onReset();
    } catch (err) {
      process.emitWarning(`store watcher onReset threw: ${err instanceof Error ? err.message : String(err)}`, { code: 'DGATE_STORE_WATCHER' });
    }
  }

  #unsubscribe(sub: Subscription): void {
    sub.active = false;
    this.#subs.delete(sub);
    const w = sub.etcdWatcher;
    sub.etcdWatcher = null;
    if (w) void w.cancel().catch(() => {});
  }

  #assertOpen(): void {
    if (this.#closed) throw Errors.STORE('the store is closed');
  }
}

function pad(n: number, digits: number): string {
  return String(n).padStart(digits, '0');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function counterOf(kv: IKeyValue | undefined): number {
  return kv ? Number(kv.value.toString()) : 0;
}

function revOfLogKey(key: Buffer): number {
  const s = key.toString();
  return Number(s.slice(s.lastIndexOf('/') + 1));
}

function isEtcdCompacted(err: unknown): boolean {
  return err instanceof Error && /compacted/i.test(err.message);
}

/** gRPC failures that mean etcd could not be reached (or had no leader) in time. */
export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof GRPCUnavailableError || err instanceof GRPCDeadlineExceededError || err instanceof GRPCCancelledError) return true;
  // etcd's own words while it has no leader, and connection failures reported as generic errors
  return /no leader|leader changed|timed out|deadline exceeded|unavailable|ECONNREFUSED/i.test(err.message);
}

/** Runs an etcd call, turning client failures into DG_ERR_STORE_UNAVAILABLE or DG_ERR_STORE. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const wrapped = isUnreachable(err) ? Errors.STORE_UNAVAILABLE(message) : Errors.STORE(message);
    wrapped.cause = err;
    throw wrapped;
  }
}

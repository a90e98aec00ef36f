import { randomUUID } from 'node:crypto';
import type { Etcd3, Lease } from 'etcd3';
import { Errors } from '../core/errors.js';
import type { Membership, NodeIdentity, NodeInfo, ProgressReport } from './membership.js';
import { statusOf, withStatus } from './membership.js';

export interface ClusterLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EtcdMembershipOptions {
  /** the etcd client (shared with the store; the membership never closes it) */
  client: Etcd3;
  /** key prefix of the gateway's data; nodes are kept under `<prefix>nodes/<id>` */
  prefix: string;
  identity: NodeIdentity;
  /** the revision this node serves when it joins */
  initialRev?: number;
  /** lease TTL in seconds (default 10): how long a node that stopped stays listed */
  ttlSeconds?: number;
  logger?: ClusterLogger;
  now?: () => Date;
}

/** What is stored under `<prefix>nodes/<id>`: the node as listed, plus which process wrote it. */
interface StoredNode extends Omit<NodeInfo, 'status'> {
  /** one per process: tells this node's own (older) entry from another node using the same id */
  incarnation: string;
}

export const DEFAULT_NODE_TTL_SECONDS = 10;
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;
/** list() gives up after this long (etcd unreachable) */
const LIST_DEADLINE_MS = 3_000;
/** an entry update, or the revoke at close, gives up after this long */
const WRITE_DEADLINE_MS = 5_000;
const REVOKE_DEADLINE_MS = 2_000;
/** shortest time between two writes of the node's entry (reports in between are coalesced) */
const REPORT_INTERVAL_MS = 50;
/**
 * A report that comes within this long of the previous one belongs to a burst of revisions: the
 * entry is written once the burst pauses this long. Each write is an etcd transaction, costing
 * etcd as much as a commit (a raft round on every member): written every 50 ms while revisions
 * kept coming, three nodes' entries made almost as many etcd writes as the commits they reported.
 */
const REPORT_QUIET_MS = 50;
/** during a burst that does not pause, the entry is still written at least this often */
const REPORT_BURST_MAX_MS = 1_000;

/**
 * Cluster membership kept in etcd. Each node holds `<prefix>nodes/<id>` under its own lease (kept
 * alive while the node runs): a node that stops disappears from the list when its lease expires,
 * one that closes is removed at once. The entry carries the node's applied revision and error;
 * reports are coalesced (one write in flight at a time, the latest report always written next; a
 * burst of revisions is written once it pauses for 50 ms, or every second while it does not),
 * and the entry is rewritten every TTL/3 as a heartbeat (`lastSeen`).
 *
 * A node that loses its lease (etcd unreachable for longer than the TTL) registers again with a
 * new lease as soon as etcd answers. Node ids are unique: `join()` refuses an id held by another
 * live node, after waiting one TTL for the entry of a crashed predecessor to expire.
 */
export class EtcdMembership implements Membership {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #key: string;
  readonly #ttl: number;
  readonly #logger: ClusterLogger | undefined;
  readonly #now: () => Date;
  readonly #incarnation = randomUUID();
  #node: Omit<NodeInfo, 'status'>;
  #lease: Lease | null = null;
  #closed = false;
  /** a report is waiting to be written */
  #dirty = false;
  /** since when (ms) a report has been waiting */
  #dirtySince = 0;
  /** when the last report of a new revision or error came, and whether it came within REPORT_QUIET_MS of the one before */
  #lastReport = 0;
  #burst = false;
  #flushing: Promise<void> | null = null;
  #lastWrite = 0;
  #rejoining: Promise<void> | null = null;
  readonly #heartbeat: NodeJS.Timeout;

  private constructor(opts: EtcdMembershipOptions) {
    this.#client = opts.client;
    this.#prefix = `${opts.prefix}nodes/`;
    this.#key = this.#prefix + opts.identity.id;
    this.#ttl = opts.ttlSeconds ?? DEFAULT_NODE_TTL_SECONDS;
    this.#logger = opts.logger;
    this.#now = opts.now ?? (() => new Date());
    const now = this.#now().toISOString();
    this.#node = { ...opts.identity, tags: [...opts.identity.tags], rev: opts.initialRev ?? 0, error: null, lastSeen: now, startedAt: now };
    this.#heartbeat = setInterval(() => {
      this.#node.lastSeen = this.#now().toISOString();
      this.#schedule();
    }, (this.#ttl * 1000) / 3);
    this.#heartbeat.unref();
  }

  /**
   * Registers this node and resolves once it is listed. Rejects with DG_ERR_CONFIG when another
   * live node uses the same id.
   */
  static async join(opts: EtcdMembershipOptions): Promise<EtcdMembership> {
    const m = new EtcdMembership(opts);
    try {
      await m.#register((m.#ttl + 1) * 1000);
    } catch (err) {
      await m.close();
      throw err;
    }
    return m;
  }

  /**
   * The same as join() without waiting: for a node that starts while etcd is unreachable. It is
   * listed once etcd answers (registration is retried with backoff until then).
   */
  static joinInBackground(opts: EtcdMembershipOptions): EtcdMembership {
    const m = new EtcdMembership(opts);
    m.#rejoin();
    return m;
  }

  self(): NodeInfo {
    return { ...this.#node, tags: [...this.#node.tags], status: statusOf(this.#node, this.#node.rev) };
  }

  report(update: ProgressReport): void {
    if (update.rev === this.#node.rev && (update.error === undefined || update.error === this.#node.error)) return;
    this.#node.rev = update.rev;
    if (update.error !== undefined) this.#node.error = update.error;
    this.#node.lastSeen = this.#now().toISOString();
    const now = Date.now();
    this.#burst = now - this.#lastReport < REPORT_QUIET_MS;
    this.#lastReport = now;
    this.#schedule();
  }

  /** Rejects with DG_ERR_CLUSTER_UNAVAILABLE (503) when etcd does not answer within 3 s. */
  async list(): Promise<NodeInfo[]> {
    let values: Record<string, string>;
    try {
      values = await this.#client.getAll().prefix(this.#prefix).options({ deadline: Date.now() + LIST_DEADLINE_MS }).strings();
    } catch (err) {
      throw Errors.CLUSTER_UNAVAILABLE(`etcd: ${err instanceof Error ? err.message : String(err)}`);
    }
    const nodes: NodeInfo[] = [];
    for (const [key, text] of Object.entries(values)) {
      const node = parseNode(text);
      if (node === null) {
        this.#logger?.warn({ key }, 'cluster: ignoring an unreadable node entry');
        continue;
      }
      const { incarnation: _incarnation, ...shown } = node;
      nodes.push({ ...shown, status: 'ok' });
    }
    return withStatus(nodes);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    await this.#flushing;
    const lease = this.#lease;
    this.#lease = null;
    // Revoking the lease removes the entry; when etcd is unreachable it expires after the TTL.
    await lease?.revoke({ deadline: Date.now() + REVOKE_DEADLINE_MS }).catch((err: unknown) => this.#logger?.warn({ err: String(err) }, 'cluster: could not revoke the node lease'));
  }

  // ---- registration ----

  /**
   * Takes `<prefix>nodes/<id>` under a new lease: created only when absent, or when the entry is
   * this process's own from before a lost lease. Another node's entry is waited on for `waitMs`
   * (a crashed node's lease runs out within one TTL), then refused.
   */
  async #register(waitMs: number): Promise<void> {
    const lease = this.#client.lease(this.#ttl);
    lease.on('lost', (err) => this.#onLost(lease, err));
    const leaseId = await lease.grant();
    const deadline = Date.now() + waitMs;
    try {
      for (;;) {
        if (this.#closed) throw Errors.STORE('cluster membership closed while joining');
        this.#node.lastSeen = this.#now().toISOString();
        const value = this.#value();
        const created = await this.#client
          .if(this.#key, 'Create', '==', 0)
          .then(this.#client.put(this.#key).value(value).lease(leaseId))
          .commit();
        if (created.succeeded) break;
        const existingText = await this.#client.get(this.#key).string();
        const existing = existingText === null ? null : parseNode(existingText);
        if (existing !== null && existing.incarnation === this.#incarnation) {
          // Our own entry under a lease we gave up on: take it over.
          await this.#client.put(this.#key).value(value).lease(leaseId);
          break;
        }
        if (existingText !== null && Date.now() >= deadline) {
          const where = existing === null ? '' : ` at ${existing.address}`;
          throw Errors.CONFIG(
            `node_id: ${JSON.stringify(this.#node.id)} is already used by a live node${where}; give every node its own node_id (or DGATE_NODE_ID)`,
          );
        }
        await sleep(RETRY_MIN_MS);
      }
    } catch (err) {
      lease.release();
      await lease.revoke().catch(() => {});
      throw err;
    }
    this.#lease = lease;
    this.#dirty = false;
    this.#logger?.info({ node: this.#node.id, key: this.#key, ttl: this.#ttl }, 'cluster: node registered');
  }

  #onLost(lease: Lease, err: unknown): void {
    if (this.#closed || lease !== this.#lease) return;
    this.#lease = null;
    this.#logger?.warn({ node: this.#node.id, err: String(err) }, 'cluster: node lease lost; registering again');
    this.#rejoin();
  }

  /** Registers again (new lease) until it works or the membership is closed. */
  #rejoin(): void {
    if (this.#rejoining !== null) return;
    this.#rejoining = (async () => {
      let delay = RETRY_MIN_MS;
      while (!this.#closed && this.#lease === null) {
        try {
          await this.#register((this.#ttl + 1) * 1000);
        } catch (err) {
          if (this.#closed) break;
          this.#logger?.error({ node: this.#node.id, err: err instanceof Error ? err.message : String(err) }, 'cluster: could not register again');
          await sleep(delay);
          delay = Math.min(delay * 2, RETRY_MAX_MS);
        }
      }
      this.#rejoining = null;
    })();
  }

  // ---- reports ----

  /**
   * Writes the latest state soon: at most one write in flight, the newest report written next; at
   * once after a quiet time, once a burst of revisions pauses (see REPORT_QUIET_MS).
   */
  #schedule(): void {
    if (!this.#dirty) this.#dirtySince = Date.now();
    this.#dirty = true;
    if (this.#flushing !== null || this.#lease === null || this.#closed) return;
    this.#flushing = this.#flush();
  }

  async #flush(): Promise<void> {
    while (this.#dirty && this.#lease !== null && !this.#closed) {
      // reports that come meanwhile may move the time due: look again after the wait
      const wait = this.#due() - Date.now();
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      this.#dirty = false;
      this.#lastWrite = Date.now();
      const lease = this.#lease;
      try {
        await lease.put(this.#key).value(this.#value()).options({ deadline: Date.now() + WRITE_DEADLINE_MS });
      } catch (err) {
        // The next heartbeat tries again; a lost lease leads to registering again instead.
        this.#dirty = true;
        this.#logger?.warn({ node: this.#node.id, err: String(err) }, 'cluster: could not update the node entry');
        break;
      }
    }
    this.#flushing = null;
  }

  /** when the waiting report is to be written (ms since the epoch) */
  #due(): number {
    const afterLast = this.#lastWrite + REPORT_INTERVAL_MS;
    if (!this.#burst) return afterLast;
    return Math.max(afterLast, Math.min(this.#lastReport + REPORT_QUIET_MS, this.#dirtySince + REPORT_BURST_MAX_MS));
  }

  #value(): string {
    const stored: StoredNode = { ...this.#node, incarnation: this.#incarnation };
    return JSON.stringify(stored);
  }
}

function parseNode(text: string): StoredNode | null {
  try {
    const v = JSON.parse(text) as Partial<StoredNode>;
    if (typeof v !== 'object' || v === null || typeof v.id !== 'string' || typeof v.rev !== 'number') return null;
    return {
      id: v.id,
      address: typeof v.address === 'string' ? v.address : '',
      tags: Array.isArray(v.tags) ? v.tags.filter((t): t is string => typeof t === 'string') : [],
      version: typeof v.version === 'string' ? v.version : '',
      watchOnly: v.watchOnly === true,
      rev: v.rev,
      lastSeen: typeof v.lastSeen === 'string' ? v.lastSeen : '',
      startedAt: typeof v.startedAt === 'string' ? v.startedAt : '',
      error: typeof v.error === 'string' ? v.error : null,
      incarnation: typeof v.incarnation === 'string' ? v.incarnation : '',
    };
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

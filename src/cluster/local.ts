import type { Membership, NodeIdentity, NodeInfo, ProgressReport } from './membership.js';
import { statusOf } from './membership.js';

/**
 * A gateway on its own (memory or file storage): the cluster is this one node. Its revision is
 * the larger of what `servedRev` says (e.g. the write path's revision) and what was reported.
 */
export class LocalMembership implements Membership {
  readonly #identity: NodeIdentity;
  readonly #now: () => Date;
  readonly #servedRev: () => number;
  readonly #startedAt: string;
  #rev = 0;
  #error: string | null = null;

  constructor(identity: NodeIdentity, servedRev: () => number = () => 0, now: () => Date = () => new Date()) {
    this.#identity = { ...identity, tags: [...identity.tags] };
    this.#servedRev = servedRev;
    this.#now = now;
    this.#startedAt = now().toISOString();
  }

  self(): NodeInfo {
    const node = { ...this.#identity, tags: [...this.#identity.tags], rev: Math.max(this.#rev, this.#servedRev()), error: this.#error };
    return { ...node, lastSeen: this.#now().toISOString(), startedAt: this.#startedAt, status: statusOf(node, node.rev) };
  }

  report(update: ProgressReport): void {
    this.#rev = update.rev;
    if (update.error !== undefined) this.#error = update.error;
  }

  async list(): Promise<NodeInfo[]> {
    return [this.self()];
  }

  async close(): Promise<void> {}
}

/**
 * The cluster view: which gateway nodes are live, and the revision each has applied, so that an
 * operator or a script can wait for a change to be live everywhere (`GET /api/v1/cluster`,
 * `dgate-cli --wait-all`). One implementation per file: local.ts (a single node) and etcd.ts
 * (nodes registered under an etcd lease).
 */

/** How a node is doing, as the cluster view shows it. */
export type NodeStatus =
  /** serving the newest revision any node reports */
  | 'ok'
  /** applied fewer revisions than another node (a change is still on its way, or it stopped applying) */
  | 'behind'
  /** could not apply a batch: it keeps serving its previous state; `error` says why */
  | 'degraded';

/** One node of the cluster, as `GET /api/v1/cluster` lists it. */
export interface NodeInfo {
  /** `node_id`: unique among live nodes */
  id: string;
  /** the node's admin API URL (`admin.advertise_address`) */
  address: string;
  /** `tags` of the node's config */
  tags: string[];
  /** gateway version */
  version: string;
  /** `admin.watch_only`: the node refuses admin writes */
  watchOnly: boolean;
  /** the revision the node has applied (serves) */
  rev: number;
  /** when the node last reported itself (ISO 8601, the node's clock) */
  lastSeen: string;
  /** when the node joined (ISO 8601, the node's clock) */
  startedAt: string;
  status: NodeStatus;
  /** why the last batch could not be applied; null when the last one was */
  error: string | null;
}

/** What a node says about itself; status and lastSeen are filled in by the membership. */
export type NodeIdentity = Pick<NodeInfo, 'id' | 'address' | 'tags' | 'version' | 'watchOnly'>;

/** The node's progress: the revision it applied, or the error of a batch it could not apply. */
export interface ProgressReport {
  rev: number;
  /** absent: unchanged; null: cleared (the node applied a batch again) */
  error?: string | null;
}

export interface Membership {
  /** this node, as last reported */
  self(): NodeInfo;
  /**
   * Records this node's applied revision (and error). Cheap and synchronous: the membership
   * publishes the latest report soon after (coalescing a burst into few writes).
   */
  report(update: ProgressReport): void;
  /** the live nodes, sorted by id; rejects with DG_ERR_CLUSTER_UNAVAILABLE when they cannot be read */
  list(): Promise<NodeInfo[]>;
  /** leaves the cluster (the node's entry is removed) */
  close(): Promise<void>;
}

/** `http://<admin.host>:<port>`: the admin URL when `admin.advertise_address` is not set. */
export function defaultAdvertiseAddress(host: string, port: number): string {
  let h = host;
  if (h === '' || h === '0.0.0.0') h = '127.0.0.1';
  else if (h === '::') h = '[::1]';
  else if (h.includes(':')) h = `[${h}]`;
  return `http://${h}:${port}`;
}

/** Status from the node's own error and the newest revision among the nodes listed with it. */
export function statusOf(node: Pick<NodeInfo, 'rev' | 'error'>, newestRev: number): NodeStatus {
  if (node.error !== null) return 'degraded';
  return node.rev < newestRev ? 'behind' : 'ok';
}

/** Sorts by id and fills in each node's status relative to the others. */
export function withStatus(nodes: NodeInfo[]): NodeInfo[] {
  const newest = nodes.reduce((max, n) => Math.max(max, n.rev), 0);
  return nodes.map((n) => ({ ...n, status: statusOf(n, newest) })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

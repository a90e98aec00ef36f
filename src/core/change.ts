import type { Kind, ItemOf } from './types.js';

/**
 * A typed change to the gateway's state. One admin request becomes one batch of changes,
 * committed atomically by the store under one revision number.
 *
 * Identity is (kind, namespace, name). For a namespace, `namespace` equals `name`.
 * For a document, `name` is `<collection>/<id>` (neither may contain "/").
 */
export type PutChange = { [K in Kind]: { op: 'put'; kind: K; namespace: string; name: string; item: ItemOf[K] } }[Kind];
export interface DeleteChange {
  op: 'delete';
  kind: Kind;
  namespace: string;
  name: string;
}
export type Change = PutChange | DeleteChange;

/** A committed batch: what a store hands to followers. */
export interface ChangeBatch {
  rev: number;
  /** ISO time of the commit */
  at: string;
  changes: Change[];
}

export function documentName(collection: string, id: string): string {
  return `${collection}/${id}`;
}

/** The store key of a resource: unique per (kind, namespace, name). */
export function itemKey(kind: Kind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

import type { AdminClient } from '../../client/admin-client.js';
import type { ResourceKind } from '../../client/types.js';
import type { ResourceSpec } from '../resources/field.js';
import { SPECS_IN_ORDER } from '../resources/index.js';
import type { Entry } from './entry.js';
import { identityOf, keyOf } from './entry.js';

/** What the server holds in some namespaces, read through the admin API. */
export interface CurrentState {
  /** every item read, by entry key, in dependency order (then namespace, then the server's order) */
  entries: Map<string, Entry>;
  /**
   * Private collections ("<namespace>/<name>"): the admin API does not show their documents,
   * so those are neither compared nor pruned nor exported.
   */
  privateCollections: Set<string>;
}

/**
 * Reads the items of the given namespaces (every namespace when `namespaces` is "all"): one
 * list request per kind and namespace, and every page of every public collection's documents.
 * Namespaces that do not exist are skipped. Requests go one after another, so -V output comes
 * in a stable order.
 */
export async function readCurrentState(client: AdminClient, namespaces: readonly string[] | 'all'): Promise<CurrentState> {
  const privateCollections = new Set<string>();
  const found: Entry[] = [];
  for (const ns of await client.list('namespace')) {
    if (namespaces !== 'all' && !namespaces.includes(ns.name)) continue;
    const namespace = ns.name;
    found.push(entryFor(SPECS_IN_ORDER[0]!, ns as unknown as Record<string, unknown>));
    const collections: string[] = [];
    for (const spec of SPECS_IN_ORDER) {
      if (spec.kind === 'namespace' || spec.kind === 'document') continue;
      for (const item of (await client.list(spec.kind as ResourceKind, namespace)) as unknown as Array<Record<string, unknown>>) {
        found.push(entryFor(spec, item));
        if (spec.kind !== 'collection') continue;
        if (item.visibility === 'private') privateCollections.add(`${namespace}/${String(item.name)}`);
        else collections.push(String(item.name));
      }
    }
    const documentSpec = SPECS_IN_ORDER.find((s) => s.kind === 'document')!;
    for (const collection of collections) {
      for (const doc of await client.allDocuments(collection, namespace)) found.push(entryFor(documentSpec, doc as unknown as Record<string, unknown>));
    }
  }
  // stable: within a kind, namespaces stay in the server's order
  found.sort((a, b) => SPECS_IN_ORDER.indexOf(a.spec) - SPECS_IN_ORDER.indexOf(b.spec));
  return { entries: new Map(found.map((e) => [keyOf(e), e])), privateCollections };
}

function entryFor(spec: ResourceSpec, item: Record<string, unknown>): Entry {
  const id = identityOf(spec, item)!;
  return { spec, namespace: id.namespace, name: id.name, item };
}

import type { ResourceSpec } from '../resources/field.js';

/**
 * One item of a declarative file or of the server, with its identity worked out:
 * (kind, namespace, name), where a namespace is its own namespace and a document's name is
 * `<collection>/<id>`.
 */
export interface Entry {
  spec: ResourceSpec;
  namespace: string;
  name: string;
  /** the item with the API's field names (a module's payload_file already read into payload) */
  item: Record<string, unknown>;
}

export function entryKey(kind: string, namespace: string, name: string): string {
  return `${kind}\0${namespace}\0${name}`;
}

export function keyOf(entry: Entry): string {
  return entryKey(entry.spec.kind, entry.namespace, entry.name);
}

/** How messages name an item: "namespace app", "route app/r1", "document app/links/abc". */
export function labelOf(entry: Entry): string {
  return entry.spec.kind === 'namespace' ? `namespace ${entry.name}` : `${entry.spec.kind} ${entry.namespace}/${entry.name}`;
}

/** The identity of an item as the API shows it; null when a required part is not a string. */
export function identityOf(spec: ResourceSpec, item: Record<string, unknown>): { namespace: string; name: string } | null {
  if (spec.kind === 'namespace') return typeof item.name === 'string' ? { namespace: item.name, name: item.name } : null;
  const namespace = typeof item.namespace === 'string' && item.namespace !== '' ? item.namespace : DEFAULT_NAMESPACE;
  if (spec.kind === 'document') {
    if (typeof item.id !== 'string' || typeof item.collection !== 'string') return null;
    return { namespace, name: `${item.collection}/${item.id}` };
  }
  return typeof item.name === 'string' ? { namespace, name: item.name } : null;
}

/** Where an item without a namespace goes (the server's default namespace). */
export const DEFAULT_NAMESPACE = 'default';

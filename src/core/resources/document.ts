import { invalidField } from '../errors.js';
import { checkName } from '../names.js';
import type { Document } from '../types.js';

/** Everything about a document that does not come from the request body. */
export interface DocumentDefaults {
  /** from the URL */
  id: string;
  namespace: string;
  collection: string;
  /** the stored version being replaced, if any: its createdAt is kept */
  previous?: Document | undefined;
  /** the time of the write (core has no clock of its own) */
  now: Date;
}

/**
 * A document: any JSON value stored under (namespace, collection, id). The request body is
 * the data itself. Checking it against the collection's schema happens in relations.ts,
 * where the collection is known.
 */
export function parseDocument(input: unknown, defaults: DocumentDefaults): Document {
  if (input === undefined) throw invalidField('data', 'is required');
  const now = defaults.now.toISOString();
  return {
    id: checkName('id', defaults.id),
    namespace: checkName('namespace', defaults.namespace),
    collection: checkName('collection', defaults.collection),
    data: input,
    createdAt: defaults.previous?.createdAt ?? now,
    updatedAt: now,
  };
}

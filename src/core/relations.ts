import type { Change } from './change.js';
import { itemKey } from './change.js';
import { Errors } from './errors.js';
import { compileSchema, schemaViolation } from './resources/collection.js';
import type { State } from './state.js';
import type { Collection, Document, Kind } from './types.js';

/**
 * One reference from an item of kind `from` to an item of kind `to`: `field` holds the target's
 * name (a name array when `many`). Targets live in the referrer's namespace; a reference to a
 * namespace is the namespace itself.
 */
export interface Relation {
  readonly from: Kind;
  readonly field: string;
  readonly to: Kind;
  readonly many?: boolean;
}

/**
 * Every reference between kinds. It drives both checks of a write: a put must point at items that
 * exist, and a delete is refused while anything still points at the item (nothing cascades).
 */
export const RELATIONS: readonly Relation[] = [
  { from: 'domain', field: 'namespace', to: 'namespace' },
  { from: 'service', field: 'namespace', to: 'namespace' },
  { from: 'route', field: 'namespace', to: 'namespace' },
  { from: 'module', field: 'namespace', to: 'namespace' },
  { from: 'collection', field: 'namespace', to: 'namespace' },
  { from: 'document', field: 'namespace', to: 'namespace' },
  { from: 'secret', field: 'namespace', to: 'namespace' },
  { from: 'route', field: 'service', to: 'service' },
  { from: 'route', field: 'modules', to: 'module', many: true },
  { from: 'document', field: 'collection', to: 'collection' },
];

/** how many referrers a refusal names before it says "and N more" */
const MAX_NAMED_REFERRERS = 10;

/**
 * Checks a batch against `state`, as if applied in order; throws the first problem found:
 * - a delete of an item missing at that point of the batch: 404 `<kind> not found: <name>`;
 * - a put whose references are missing once the whole batch is applied: 422 `<kind> not found: <name>`;
 * - a document whose data fails its collection's schema (also checked for the existing documents
 *   when a collection's schema changes): 422;
 * - a delete that would leave something pointing at the deleted item: 409 naming the referrers.
 * Pure: nothing is changed, whatever the outcome.
 */
export function validateBatch(state: State, changes: readonly Change[]): void {
  const exists = new Map<string, boolean>();
  const last = new Map<string, Change>();
  for (const c of changes) {
    const key = itemKey(c.kind, c.namespace, c.name);
    if (c.op === 'delete' && !(exists.get(key) ?? state.has(c.kind, c.namespace, c.name))) {
      throw Errors.NOT_FOUND(c.kind, displayName(c.kind, c.name));
    }
    exists.set(key, c.op === 'put');
    last.set(key, c);
  }

  const after = state.applyChanges(changes, state.rev + 1);
  const referrers = new ReferrerIndex(after);
  for (const c of changes) {
    if (last.get(itemKey(c.kind, c.namespace, c.name)) !== c) continue;
    if (c.op === 'put') {
      checkReferences(after, c.kind, c.item as unknown as Record<string, unknown>);
      if (c.kind === 'document') checkDocument(after, c.item);
      if (c.kind === 'collection') checkSchemaChange(state, after, c.item);
    } else {
      const found = referrers.of(c.kind, c.namespace, c.name);
      if (found.length > 0) throw Errors.STILL_REFERENCED(c.kind, displayName(c.kind, c.name), describe(found));
    }
  }
}

function checkReferences(after: State, kind: Kind, item: Record<string, unknown>): void {
  const namespace = item.namespace as string;
  for (const r of RELATIONS) {
    if (r.from !== kind) continue;
    for (const target of targetsOf(r, item)) {
      const ns = r.to === 'namespace' ? target : namespace;
      if (!after.has(r.to, ns, target)) throw Errors.REFERENCE_MISSING(r.to, target);
    }
  }
}

function targetsOf(r: Relation, item: Record<string, unknown>): string[] {
  const v = item[r.field];
  if (v === undefined || v === null) return [];
  return r.many ? (v as string[]) : [v as string];
}

function checkDocument(after: State, doc: Document): void {
  const collection = after.get('collection', doc.namespace, doc.collection)!;
  const problem = schemaViolation(collection.schema, doc.data);
  if (problem !== null) throw Errors.DOCUMENT_INVALID(doc.collection, problem);
}

/** A new schema must accept the collection's existing documents. */
function checkSchemaChange(before: State, after: State, collection: Collection): void {
  const old = before.get('collection', collection.namespace, collection.name);
  if (old !== undefined && JSON.stringify(old.schema) === JSON.stringify(collection.schema)) return;
  if (typeof compileSchema(collection.schema) === 'string') return; // refused by the parser already
  for (const doc of after.list('document', collection.namespace)) {
    if (doc.collection !== collection.name) continue;
    const problem = schemaViolation(collection.schema, doc.data);
    if (problem !== null) throw Errors.DOCUMENT_INVALID(collection.name, `document ${doc.id}: ${problem}`);
  }
}

/** Who points at an item, found by scanning each referring (kind, namespace) table once per batch. */
class ReferrerIndex {
  readonly #state: State;
  readonly #tables = new Map<string, Array<Record<string, unknown>>>();

  constructor(state: State) {
    this.#state = state;
  }

  /** "<kind> <name>" of every item referring to (kind, namespace, name), in table order then by name. */
  of(kind: Kind, namespace: string, name: string): string[] {
    const out: string[] = [];
    for (const r of RELATIONS) {
      if (r.to !== kind) continue;
      for (const item of this.#table(r.from, namespace)) {
        if (r.to === 'namespace' || targetsOf(r, item).includes(name)) out.push(`${r.from} ${nameOf(r.from, item)}`);
      }
    }
    return out;
  }

  #table(kind: Kind, namespace: string): Array<Record<string, unknown>> {
    const key = `${kind}\0${namespace}`;
    let items = this.#tables.get(key);
    if (items === undefined) {
      items = this.#state.list(kind, namespace) as unknown as Array<Record<string, unknown>>;
      this.#tables.set(key, items);
    }
    return items;
  }
}

function nameOf(kind: Kind, item: Record<string, unknown>): string {
  return kind === 'document' ? `${item.collection as string}/${item.id as string}` : (item.name as string);
}

/** Documents are named `<collection>/<id>` in changes; messages show the id. */
function displayName(kind: Kind, name: string): string {
  return kind === 'document' ? name.slice(name.indexOf('/') + 1) : name;
}

function describe(referrers: string[]): string {
  const named = referrers.slice(0, MAX_NAMED_REFERRERS).join(', ');
  const more = referrers.length - MAX_NAMED_REFERRERS;
  return more > 0 ? `${named} and ${more} more` : named;
}

import type { Change } from '../../core/change.js';
import { documentName } from '../../core/change.js';
import { Errors, GatewayError } from '../../core/errors.js';
import { checkName } from '../../core/names.js';
import { parseDocument } from '../../core/resources/document.js';
import type { Collection, Document } from '../../core/types.js';
import type { ModuleHost } from '../host.js';

/**
 * `dgate/state`: the collections and documents of the module's own namespace.
 *
 * Every function returns a Promise. Reads come from the state this process serves; writes go
 * through `host.write`, the gateway's single write path, so a document is checked against its
 * collection's JSON schema exactly as an admin API write is, and the promise resolves once the
 * change is live. Errors reject with an Error carrying the gateway's message and its `code`
 * (e.g. DG_ERR_DOCUMENT_INVALID).
 *
 * Collections are configuration: modules can read them but not create or delete them (DGate's
 * addCollection/deleteCollection are not offered). Documents of private collections are
 * readable here: `private` only hides them from the admin API.
 *
 * Differences from DGate, on purpose: a missing collection rejects with `collection not found`
 * (not with null), a missing document resolves with null, getDocuments pages correctly with a
 * default limit of 100, document data is validated, and a write to another namespace is refused.
 */
export const name = 'dgate/state';

const DEFAULT_LIMIT = 100;
/** the admin API's page limit too */
const MAX_LIMIT = 1000;

export interface DocumentQuery {
  collection: string;
  limit?: number;
  offset?: number;
}

export interface DocumentInput {
  id: string;
  collection: string;
  data: unknown;
  /** optional; when given it must be the module's own namespace */
  namespace?: string;
}

export interface DocumentRef {
  id: string;
  collection: string;
}

/** An Error for module code: the gateway's message, with its code and status kept as properties. */
function moduleError(err: unknown): unknown {
  if (!(err instanceof GatewayError)) return err;
  return Object.assign(new Error(err.message), { code: err.code, status: err.status });
}

/** Runs `fn` so that every outcome is a promise and gateway errors become module errors. */
async function settle<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw moduleError(err);
  }
}

function object(arg: unknown, fn: string, example: string): Record<string, unknown> {
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg)) throw new TypeError(`${fn} expects an object such as ${example}`);
  return arg as Record<string, unknown>;
}

function pageNumber(value: unknown, field: string, fallback: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field}: must be an integer between 0 and ${max}`);
  }
  return value;
}

/** A copy that shares nothing with the state (which other requests read) nor with the caller. */
function copy<T>(value: T): T {
  return structuredClone(value);
}

/** Document data as JSON, the form the admin API stores: dates become strings, undefined fields are dropped. */
function jsonData(data: unknown): unknown {
  if (data === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(data)) as unknown;
  } catch (err) {
    throw Errors.VALIDATION(`data: must be JSON (${(err as Error).message})`);
  }
}

export function create(host: ModuleHost): Record<string, unknown> {
  const namespace = host.namespace;

  const collectionOf = (collection: unknown): Collection => {
    const c = host.state().get('collection', namespace, checkName('collection', collection));
    if (c === undefined) throw Errors.NOT_FOUND('collection', collection as string);
    return c;
  };

  return {
    /** the collection as configured ({name, namespace, schema, visibility, type, tags?}), or null */
    getCollection(collectionName: string): Promise<Collection | null> {
      return settle(() => {
        const c = host.state().get('collection', namespace, checkName('collection', collectionName));
        return c === undefined ? null : copy(c);
      });
    },

    /** DGate's argument order: the id first. Null when there is no such document; rejects when the collection does not exist. */
    getDocument(id: string, collection: string): Promise<Document | null> {
      return settle(() => {
        const c = collectionOf(collection);
        const doc = host.state().get('document', namespace, documentName(c.name, checkName('id', id)));
        return doc === undefined ? null : copy(doc);
      });
    },

    /** one page of a collection's documents, sorted by id */
    getDocuments(query: DocumentQuery): Promise<Document[]> {
      return settle(() => {
        const q = object(query, 'getDocuments', '{ collection: "users", limit: 100, offset: 0 }');
        const c = collectionOf(q.collection);
        const limit = pageNumber(q.limit, 'limit', DEFAULT_LIMIT, MAX_LIMIT);
        const offset = pageNumber(q.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
        // The state keeps each collection's documents sorted by id: one slice per call.
        return host.state().documents(namespace, c.name).slice(offset, offset + limit).map(copy);
      });
    },

    /** creates or replaces a document (createdAt is kept on replace); resolves with the stored document */
    addDocument(input: DocumentInput): Promise<Document> {
      return settle(async () => {
        const b = object(input, 'addDocument', '{ id: "42", collection: "users", data: {...} }');
        if (b.namespace !== undefined && b.namespace !== null && b.namespace !== namespace) {
          throw Errors.VALIDATION(`namespace: a module can only write to its own namespace (${namespace})`);
        }
        const id = checkName('id', b.id);
        const collection = checkName('collection', b.collection);
        const data = jsonData(b.data);
        let stored: Document | undefined;
        await host.write((state): Change[] => {
          const previous = state.get('document', namespace, documentName(collection, id));
          stored = parseDocument(data, { id, namespace, collection, previous, now: new Date() });
          return [{ op: 'put', kind: 'document', namespace, name: documentName(collection, id), item: stored }];
        });
        return copy(stored!);
      });
    },

    /** rejects with `document not found: <id>` when there is nothing to delete */
    deleteDocument(ref: DocumentRef): Promise<void> {
      return settle(async () => {
        const b = object(ref, 'deleteDocument', '{ id: "42", collection: "users" }');
        const id = checkName('id', b.id);
        const collection = checkName('collection', b.collection);
        await host.write(() => [{ op: 'delete', kind: 'document', namespace, name: documentName(collection, id) }]);
      });
    },
  };
}

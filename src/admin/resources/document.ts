import type { Change } from '../../core/change.js';
import { documentName } from '../../core/change.js';
import { Errors, invalidField } from '../../core/errors.js';
import { checkName } from '../../core/names.js';
import { parseDocument } from '../../core/resources/document.js';
import type { State } from '../../core/state.js';
import type { Collection, Document } from '../../core/types.js';
import type { AdminContext } from '../context.js';
import { namespaceParam, requireNamespace, write } from '../context.js';
import type { AdminRequest } from '../request.js';
import { envelope, noContent } from '../reply.js';
import type { AdminResource } from '../resource.js';

const BASE = '/api/v1/document';
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/**
 * /api/v1/document: documents are addressed by `?namespace=&collection=` plus the id in the path.
 *   PUT    /document/:id      body = the document's data (any JSON), checked against the collection's schema
 *   GET    /document/:id      403 when the collection is private
 *   GET    /document          page through a collection: ?limit= (default 100, max 1000) &offset=
 *   DELETE /document/:id      or DELETE /document with body {id, namespace?, collection?}
 *   DELETE /document          without a body: every document of the collection, in one batch
 */
export const documentResource: AdminResource<'document'> = {
  kind: 'document',
  output: (doc) => doc,
  routes: (ctx) => [
    {
      method: 'PUT',
      path: `${BASE}/:id`,
      async handler(req) {
        const data = await req.body();
        const { namespace, collection } = address(ctx, req);
        const id = req.params.id!;
        let stored: Document | undefined;
        await write(ctx, (state) => {
          const previous = state.get('document', namespace, documentName(collection, id));
          stored = parseDocument(data, { id, namespace, collection, previous, now: ctx.now() });
          return [{ op: 'put', kind: 'document', namespace, name: documentName(collection, stored.id), item: stored }];
        });
        return envelope(201, stored);
      },
    },
    {
      method: 'GET',
      path: `${BASE}/:id`,
      handler(req) {
        const state = ctx.writer.state;
        const { namespace, collection } = readable(state, address(ctx, req));
        const id = req.params.id!;
        const doc = state.get('document', namespace, documentName(collection.name, id));
        if (doc === undefined) throw Errors.NOT_FOUND('document', id);
        return envelope(200, doc);
      },
    },
    {
      method: 'GET',
      path: BASE,
      handler(req) {
        const state = ctx.writer.state;
        const { namespace, collection } = readable(state, address(ctx, req));
        const limit = req.integer('limit', DEFAULT_LIMIT, MAX_LIMIT);
        const offset = req.integer('offset', 0);
        const all = documentsOf(state, namespace, collection.name);
        const page = all.slice(offset, offset + limit);
        return envelope(200, page, { limit, offset, total: all.length });
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/:id`,
      async handler(req) {
        const { namespace, collection } = address(ctx, req);
        await write(ctx, () => [deletion(namespace, collection, req.params.id!)]);
        return noContent();
      },
    },
    {
      method: 'DELETE',
      path: BASE,
      async handler(req) {
        const body = await req.body();
        if (body !== undefined) return deleteOne(ctx, req, body);
        const { namespace, collection } = address(ctx, req);
        await write(ctx, (state) => {
          requireNamespace(state, namespace);
          if (!state.has('collection', namespace, collection)) throw Errors.NOT_FOUND('collection', collection);
          return documentsOf(state, namespace, collection).map((d) => deletion(namespace, collection, d.id));
        });
        return noContent();
      },
    },
  ],
};

/** `DELETE /document` with a body naming one document; missing fields come from the query. */
async function deleteOne(ctx: AdminContext, req: AdminRequest, body: unknown): Promise<ReturnType<typeof noContent>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidField('body', 'must be a JSON object with the id of the document to delete');
  }
  const b = body as Record<string, unknown>;
  const id = checkName('id', b.id ?? b.name);
  const namespace = b.namespace ? checkName('namespace', b.namespace) : namespaceParam(ctx, req);
  const collection = checkName('collection', b.collection ?? req.param('collection'));
  await write(ctx, () => [deletion(namespace, collection, id)]);
  return noContent();
}

function deletion(namespace: string, collection: string, id: string): Change {
  return { op: 'delete', kind: 'document', namespace, name: documentName(collection, id) };
}

function address(ctx: AdminContext, req: AdminRequest): { namespace: string; collection: string } {
  const collection = req.param('collection');
  if (collection === undefined) throw invalidField('collection', 'is required');
  return { namespace: namespaceParam(ctx, req), collection };
}

/** The collection to read from: it must exist and be public. */
function readable(state: State, where: { namespace: string; collection: string }): { namespace: string; collection: Collection } {
  requireNamespace(state, where.namespace);
  const collection = state.get('collection', where.namespace, where.collection);
  if (collection === undefined) throw Errors.NOT_FOUND('collection', where.collection);
  if (collection.visibility === 'private') throw Errors.COLLECTION_PRIVATE();
  return { namespace: where.namespace, collection };
}

/** The collection's documents, sorted by id (names are `<collection>/<id>`, sorted in byte order). */
function documentsOf(state: State, namespace: string, collection: string): Document[] {
  return state.documents(namespace, collection);
}

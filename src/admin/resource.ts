import type { Change } from '../core/change.js';
import { Errors, invalidField } from '../core/errors.js';
import { checkName } from '../core/names.js';
import type { ParseDefaults } from '../core/resources/fields.js';
import type { ItemOf, Kind } from '../core/types.js';
import type { AdminContext } from './context.js';
import { fallbackNamespace, namespaceParam, requireNamespace, write } from './context.js';
import type { AdminRequest } from './request.js';
import { envelope, noContent } from './reply.js';
import type { RouteDef } from './router.js';

/** An admin resource: how its items look in answers, and the routes that serve it. */
export interface AdminResource<K extends Kind = Kind> {
  kind: K;
  /** the item as the API shows it (secrets redact their data) */
  output(item: ItemOf[K]): unknown;
  routes(ctx: AdminContext): RouteDef[];
}

/** The declaration of a plain resource; defineResource() turns it into CRUD routes. */
export interface ResourceDef<K extends Exclude<Kind, 'document'>> {
  kind: K;
  parse(input: unknown, defaults: ParseDefaults): ItemOf[K];
  output?(item: ItemOf[K]): unknown;
  /**
   * Completes and checks a parsed item against the one it replaces (undefined: a new item), in
   * the write itself; e.g. a write-only field sent back as its placeholder keeps the stored value.
   */
  complete?(item: ItemOf[K], stored: ItemOf[K] | undefined): ItemOf[K];
  /** `GET /<kind>` without `?namespace=` lists every namespace's items when the default namespace is disabled */
  listAllWithoutDefault?: boolean;
}

/**
 * Builds the routes every plain kind has, under /api/v1/<kind>:
 *   GET    /<kind>?namespace=         list, sorted by name
 *   GET    /<kind>/:name?namespace=   one item
 *   PUT    /<kind>                    create or fully replace (201, data = the stored item)
 *   DELETE /<kind>  body {name, namespace}  and  DELETE /<kind>/:name?namespace=   (204)
 * A namespace is its own namespace: its routes take no `namespace` parameter.
 */
export function defineResource<K extends Exclude<Kind, 'document'>>(def: ResourceDef<K>): AdminResource<K> {
  const { kind } = def;
  const output = def.output ?? ((item: ItemOf[K]) => item);
  const global = kind === 'namespace';
  const base = `/api/v1/${kind}`;

  const namespaceOf = (ctx: AdminContext, req: AdminRequest, name: string) => (global ? name : namespaceParam(ctx, req));
  const remove = async (ctx: AdminContext, namespace: string, name: string) => {
    await write(ctx, () => [{ op: 'delete', kind, namespace, name }]);
    return noContent();
  };

  return {
    kind,
    output,
    routes: (ctx) => [
      {
        method: 'GET',
        path: base,
        handler(req) {
          const state = ctx.writer.state;
          if (global) return envelope(200, state.list(kind).map(output));
          if (def.listAllWithoutDefault && !ctx.defaultNamespace && req.param('namespace') === undefined) {
            return envelope(200, state.list(kind).map(output));
          }
          const ns = namespaceParam(ctx, req);
          requireNamespace(state, ns);
          return envelope(200, state.list(kind, ns).map(output));
        },
      },
      {
        method: 'GET',
        path: `${base}/:name`,
        handler(req) {
          const state = ctx.writer.state;
          const name = req.params.name!;
          const ns = namespaceOf(ctx, req, name);
          if (!global) requireNamespace(state, ns);
          const item = state.get(kind, ns, name);
          if (item === undefined) throw Errors.NOT_FOUND(kind, name);
          return envelope(200, output(item));
        },
      },
      {
        method: 'PUT',
        path: base,
        async handler(req) {
          let item = def.parse(await req.body(), { namespace: fallbackNamespace(ctx) });
          const name = (item as { name: string }).name;
          const namespace = global ? name : (item as { namespace: string }).namespace;
          const parsed = item;
          await write(ctx, (state) => {
            if (def.complete !== undefined) item = def.complete(parsed, state.get(kind, namespace, name));
            return [{ op: 'put', kind, namespace, name, item } as Change];
          });
          return envelope(201, output(item));
        },
      },
      {
        method: 'DELETE',
        path: base,
        async handler(req) {
          // Fields other than name and namespace are ignored: sending the whole item is fine.
          const body = await req.body();
          if (typeof body !== 'object' || body === null || Array.isArray(body)) {
            throw invalidField('body', 'must be a JSON object with the name (and namespace) to delete');
          }
          const { name: rawName, namespace: rawNs } = body as Record<string, unknown>;
          const name = checkName('name', rawName);
          let ns = name;
          if (!global) {
            ns = rawNs === undefined || rawNs === null || rawNs === '' ? namespaceParam(ctx, req) : checkName('namespace', rawNs);
          }
          return remove(ctx, ns, name);
        },
      },
      {
        method: 'DELETE',
        path: `${base}/:name`,
        handler(req) {
          const name = req.params.name!;
          return remove(ctx, namespaceOf(ctx, req, name), name);
        },
      },
    ],
  };
}

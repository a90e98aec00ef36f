import { parseArguments, requireFields } from '../arguments.js';
import { printJson } from '../io.js';
import { documentSpec } from '../resources/document.js';
import { UsageError } from '../usage-error.js';
import type { Verb } from '../verbs.js';
import { verbContract } from '../verbs.js';
import type { CommandContext } from './context.js';

/**
 * The document verbs (all four were broken in DGate's CLI):
 *   create id=… collection=… data:=<json> [namespace=…]   PUT /document/<id>, body = data
 *   get    id=… collection=…                               prints the document
 *   list   collection=… [limit=… offset=…]                 prints the documents array (every page unless limit= is given)
 *   delete id=… collection=…  |  delete --all collection=…
 */
export async function documentCommand(verb: Verb, args: readonly string[], ctx: CommandContext): Promise<void> {
  const contract = verbContract(documentSpec, verb);
  const argCtx = { resource: 'document', command: `document ${verb}`, cwd: ctx.cwd };
  const parsed = parseArguments(args, contract, argCtx);
  const all = parsed.flags.has('--all');
  if (all && Object.hasOwn(parsed.values, 'id')) throw new UsageError('give either id=… or --all, not both', argCtx.command);
  requireFields(parsed, contract, argCtx, all ? ['id'] : []);
  const v = parsed.values as { id: string; collection: string; namespace?: string; data?: unknown; limit?: number; offset?: number };
  const client = await ctx.client();
  switch (verb) {
    case 'create':
      printJson(ctx.io, await client.putDocument({ id: v.id, collection: v.collection, namespace: v.namespace, data: v.data }));
      return;
    case 'get':
      printJson(ctx.io, await client.getDocument(v.id, v.collection, v.namespace));
      return;
    case 'list':
      if (v.limit !== undefined || v.offset !== undefined) {
        printJson(ctx.io, (await client.listDocuments(v.collection, { namespace: v.namespace, limit: v.limit, offset: v.offset })).documents);
      } else {
        printJson(ctx.io, await client.allDocuments(v.collection, v.namespace));
      }
      return;
    case 'delete':
      if (all) await client.deleteAllDocuments(v.collection, v.namespace);
      else await client.deleteDocument(v.id, v.collection, v.namespace);
      return;
  }
}

import type { ResourceKind } from '../../client/types.js';
import { parseArguments, requireFields } from '../arguments.js';
import type { ResourceSpec } from '../resources/field.js';
import { verbContract } from '../verbs.js';
import type { CommandContext } from './context.js';

/**
 * `dgate-cli <resource> delete name=N [namespace=NS]` (or `delete N`, as DGate's namespace
 * delete took it). Prints nothing. Every kind is deleted by `DELETE /<kind>/<name>`, which also
 * fixes DGate's `collection delete` (it sent a path the server did not serve).
 */
export async function deleteCommand(spec: ResourceSpec, args: readonly string[], ctx: CommandContext): Promise<void> {
  const contract = verbContract(spec, 'delete');
  const argCtx = { resource: spec.kind, command: `${spec.kind} delete`, cwd: ctx.cwd };
  const parsed = parseArguments(args, contract, argCtx);
  requireFields(parsed, contract, argCtx);
  const client = await ctx.client();
  await client.delete(spec.kind as ResourceKind, parsed.values.name as string, parsed.values.namespace as string | undefined);
}

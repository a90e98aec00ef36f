import type { ResourceInput, ResourceKind } from '../../client/types.js';
import { parseArguments, requireFields } from '../arguments.js';
import { printJson } from '../io.js';
import type { ResourceSpec } from '../resources/field.js';
import { verbContract } from '../verbs.js';
import type { CommandContext } from './context.js';

/**
 * `dgate-cli <resource> create key=value…`: PUTs the item (a full replace when it exists) and
 * prints the item as the server stored it, defaults filled in.
 */
export async function createCommand(spec: ResourceSpec, args: readonly string[], ctx: CommandContext): Promise<void> {
  const contract = verbContract(spec, 'create');
  const argCtx = { resource: spec.kind, command: `${spec.kind} create`, cwd: ctx.cwd };
  const parsed = parseArguments(args, contract, argCtx);
  requireFields(parsed, contract, argCtx);
  const client = await ctx.client();
  const kind = spec.kind as ResourceKind;
  printJson(ctx.io, await client.put(kind, parsed.values as ResourceInput<typeof kind>));
}

import type { ResourceKind } from '../../client/types.js';
import { parseArguments, requireFields } from '../arguments.js';
import { printJson } from '../io.js';
import type { ResourceSpec } from '../resources/field.js';
import { verbContract } from '../verbs.js';
import type { CommandContext } from './context.js';

/** `dgate-cli <resource> get name=N [namespace=NS]` (or `get N`): prints the item. */
export async function getCommand(spec: ResourceSpec, args: readonly string[], ctx: CommandContext): Promise<void> {
  const contract = verbContract(spec, 'get');
  const argCtx = { resource: spec.kind, command: `${spec.kind} get`, cwd: ctx.cwd };
  const { values } = parseArguments(args, contract, argCtx);
  requireFields({ values, flags: new Set() }, contract, argCtx);
  const client = await ctx.client();
  printJson(ctx.io, await client.get(spec.kind as ResourceKind, values.name as string, values.namespace as string | undefined));
}

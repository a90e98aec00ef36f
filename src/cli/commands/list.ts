import type { ResourceKind } from '../../client/types.js';
import { parseArguments } from '../arguments.js';
import { printJson } from '../io.js';
import type { ResourceSpec } from '../resources/field.js';
import { verbContract } from '../verbs.js';
import type { CommandContext } from './context.js';

/** `dgate-cli <resource> list [namespace=NS]`: prints the items, sorted by name. */
export async function listCommand(spec: ResourceSpec, args: readonly string[], ctx: CommandContext): Promise<void> {
  const contract = verbContract(spec, 'list');
  const { values } = parseArguments(args, contract, { resource: spec.kind, command: `${spec.kind} list`, cwd: ctx.cwd });
  const client = await ctx.client();
  printJson(ctx.io, await client.list(spec.kind as ResourceKind, values.namespace as string | undefined));
}

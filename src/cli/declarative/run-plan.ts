import type { AdminClient } from '../../client/admin-client.js';
import type { ResourceInput, ResourceKind } from '../../client/types.js';
import { CommandError } from '../command-error.js';
import type { Step } from './plan.js';
import { labelOf } from './entry.js';

/**
 * Carries out a plan, one request per step that changes something, in order. Stops at the
 * first failure with a CommandError naming the item (what was done before it stays done:
 * the admin API has no multi-request transaction). `onStep` hears of every step once it is
 * done, unchanged ones included.
 */
export async function runPlan(client: AdminClient, steps: readonly Step[], onStep: (step: Step) => void): Promise<void> {
  for (const step of steps) {
    try {
      await perform(client, step);
    } catch (err) {
      throw new CommandError(`apply stopped at ${labelOf(step.entry)}: ${(err as Error).message}`, { cause: err });
    }
    onStep(step);
  }
}

async function perform(client: AdminClient, step: Step): Promise<void> {
  const { spec, item, namespace, name } = step.entry;
  if (step.action === 'unchanged') return;
  if (spec.kind === 'document') {
    const { id, collection } = item as { id: string; collection: string };
    if (step.action === 'delete') await client.deleteDocument(id, collection, namespace);
    else await client.putDocument({ id, collection, namespace, data: item.data });
    return;
  }
  const kind = spec.kind as ResourceKind;
  if (step.action === 'delete') await client.delete(kind, name, namespace);
  else await client.put(kind, item as ResourceInput<typeof kind>);
}

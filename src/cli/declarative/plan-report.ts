import type { Step } from './plan.js';
import { labelOf } from './entry.js';

/** What `apply` prints once a step is done: "route app/r1: created". */
export function doneLine(step: Step): string {
  const label = labelOf(step.entry);
  switch (step.action) {
    case 'create':
      return `${label}: created`;
    case 'update':
      return `${label}: updated (${step.fields.join(', ')})`;
    case 'unchanged':
      return `${label}: unchanged`;
    case 'write':
      return `${label}: written (${cannotCompare(step)})`;
    case 'delete':
      return `${label}: deleted`;
  }
}

/** What `apply --dry-run` prints for a step; null for unchanged items. */
export function planLine(step: Step): string | null {
  const label = labelOf(step.entry);
  switch (step.action) {
    case 'create':
      return `+ ${label}`;
    case 'update':
      return `~ ${label}: ${step.fields.join(', ')}`;
    case 'unchanged':
      return null;
    case 'write':
      return `? ${label}: unknown (${cannotCompare(step)}; apply writes it)`;
    case 'delete':
      return `- ${label}`;
  }
}

/** The closing line: "2 created, 1 updated, 0 deleted, 5 unchanged." or "No changes (8 unchanged)." */
export function summaryLine(steps: readonly Step[], dryRun: boolean): string {
  const n = (action: Step['action']) => steps.filter((s) => s.action === action).length;
  const unknown = n('write');
  const unknownPart = unknown === 0 ? '' : dryRun ? `, ${unknown} unknown` : `, ${unknown} written without comparing`;
  if (n('create') + n('update') + n('delete') === 0) {
    const head = dryRun ? 'Dry run: no changes' : 'No changes';
    return `${head} (${n('unchanged')} unchanged${unknownPart}).`;
  }
  if (dryRun) {
    return `Dry run: ${n('create')} to create, ${n('update')} to update, ${n('delete')} to delete, ${n('unchanged')} unchanged${unknownPart}. Nothing was changed.`;
  }
  return `${n('create')} created, ${n('update')} updated, ${n('delete')} deleted, ${n('unchanged')} unchanged${unknownPart}.`;
}

function cannotCompare(step: Step): string {
  return step.entry.spec.kind === 'secret' ? 'secrets cannot be read back to compare' : 'documents of a private collection cannot be read back to compare';
}

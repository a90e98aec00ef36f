import { CommandError } from '../command-error.js';
import { REDACTED } from '../resources/secret.js';
import { SPECS_IN_ORDER } from '../resources/index.js';
import { changedFields, stableJson, storedForm } from './compare.js';
import type { Entry } from './entry.js';
import { keyOf, labelOf } from './entry.js';
import type { CurrentState } from './current-state.js';

/**
 * One step of an apply:
 *   create     not on the server
 *   update     on the server with other values (`fields` says which)
 *   unchanged  already as wanted: nothing is sent
 *   write      cannot be compared (a secret's value, a document of a private collection):
 *              written every time
 *   delete     on the server in a namespace the file names, but not in the file (--prune)
 */
export type Step =
  | { action: 'create' | 'unchanged' | 'write' | 'delete'; entry: Entry }
  | { action: 'update'; entry: Entry; fields: string[] };

/**
 * What an apply does, in order: creates and updates in dependency order (namespaces, modules,
 * services, routes, domains, collections, documents, secrets; file order within a kind), then,
 * with `prune`, deletes in the reverse order. Pure: reads only its arguments.
 *
 * Secrets: their value cannot be read back, so one whose `data` is given is always written.
 * `data: "**redacted**"` (what export writes) means "keep the stored value": such a secret is
 * unchanged when its other fields match, and refused when it does not exist or its tags changed
 * (the server would need the real value): a CommandError, raised before anything is sent.
 */
export function planApply(wanted: readonly Entry[], current: CurrentState, prune: boolean): Step[] {
  const order = (e: Entry) => SPECS_IN_ORDER.indexOf(e.spec);
  const steps: Step[] = [...wanted].sort((a, b) => order(a) - order(b)).map((entry) => stepFor(entry, current));
  if (!prune) return steps;

  const named = new Set(wanted.map((e) => e.namespace));
  const listed = new Set(wanted.map(keyOf));
  const removals = [...current.entries.values()].filter(
    (e) => e.spec.kind !== 'namespace' && named.has(e.namespace) && !listed.has(keyOf(e)),
  );
  removals.sort((a, b) => order(b) - order(a));
  return [...steps, ...removals.map((entry): Step => ({ action: 'delete', entry }))];
}

function stepFor(entry: Entry, current: CurrentState): Step {
  const stored = current.entries.get(keyOf(entry));
  const { spec, item } = entry;
  if (spec.kind === 'secret') return secretStep(entry, stored);
  if (stored === undefined) {
    const collection = `${entry.namespace}/${String(item.collection)}`;
    if (spec.kind === 'document' && current.privateCollections.has(collection)) return { action: 'write', entry };
    return { action: 'create', entry };
  }
  if (spec.kind === 'document') {
    // timestamps are the server's: only the data is the user's
    return stableJson(item.data) === stableJson(stored.item.data) ? { action: 'unchanged', entry } : { action: 'update', entry, fields: ['data'] };
  }
  const fields = changedFields(spec, storedForm(spec, item), storedForm(spec, stored.item));
  return fields.length === 0 ? { action: 'unchanged', entry } : { action: 'update', entry, fields };
}

function secretStep(entry: Entry, stored: Entry | undefined): Step {
  if (entry.item.data !== REDACTED) return stored === undefined ? { action: 'create', entry } : { action: 'write', entry };
  if (stored === undefined) {
    throw new CommandError(`${labelOf(entry)}: data is the placeholder "${REDACTED}" but the secret does not exist; put its value in the file`);
  }
  const fields = changedFields(entry.spec, storedForm(entry.spec, entry.item), storedForm(entry.spec, stored.item));
  if (fields.length > 0) {
    throw new CommandError(`${labelOf(entry)}: ${fields.join(', ')} changed but data is the placeholder "${REDACTED}"; put the secret's value in the file to update it`);
  }
  return { action: 'unchanged', entry };
}

import type { Kind } from '../../client/types.js';
import { collectionSpec } from './collection.js';
import { documentSpec } from './document.js';
import { domainSpec } from './domain.js';
import type { ResourceSpec } from './field.js';
import { moduleSpec } from './module.js';
import { namespaceSpec } from './namespace.js';
import { routeSpec } from './route.js';
import { secretSpec } from './secret.js';
import { serviceSpec } from './service.js';

/**
 * Every kind, in dependency order: an item only refers to kinds listed before it (the order of
 * src/core/relations.ts: routes use services and modules, documents use collections, everything
 * uses its namespace). Creates follow this order; deletes go the other way.
 */
export const SPECS_IN_ORDER: readonly ResourceSpec[] = [
  namespaceSpec,
  moduleSpec,
  serviceSpec,
  routeSpec,
  domainSpec,
  collectionSpec,
  documentSpec,
  secretSpec,
];

/** The order the top-level help lists resources in (DGate's). */
export const SPECS_FOR_HELP: readonly ResourceSpec[] = [
  namespaceSpec,
  domainSpec,
  serviceSpec,
  routeSpec,
  moduleSpec,
  collectionSpec,
  documentSpec,
  secretSpec,
];

export function specOf(kind: Kind): ResourceSpec {
  return SPECS_IN_ORDER.find((s) => s.kind === kind)!;
}

/** The resource a command-line word names ("route" or "rt"), or undefined. */
export function findSpec(word: string): ResourceSpec | undefined {
  return SPECS_IN_ORDER.find((s) => s.kind === word || s.alias === word);
}

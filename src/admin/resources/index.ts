import type { Kind } from '../../core/types.js';
import type { AdminResource } from '../resource.js';
import { collectionResource } from './collection.js';
import { documentResource } from './document.js';
import { domainResource } from './domain.js';
import { moduleResource } from './module.js';
import { namespaceResource } from './namespace.js';
import { routeResource } from './route.js';
import { secretResource } from './secret.js';
import { serviceResource } from './service.js';

/** Every admin resource, one per kind. */
export const RESOURCES: { readonly [K in Kind]: AdminResource<K> } = {
  namespace: namespaceResource,
  domain: domainResource,
  service: serviceResource,
  route: routeResource,
  module: moduleResource,
  collection: collectionResource,
  document: documentResource,
  secret: secretResource,
};

/** An item as the admin API shows it (secrets redacted). */
export function outputOf<K extends Kind>(kind: K, item: unknown): unknown {
  return (RESOURCES[kind] as AdminResource<K>).output(item as never);
}

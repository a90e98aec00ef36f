import { NAME_FIELD, TAGS_FIELD, type ResourceSpec } from './field.js';

export const namespaceSpec: ResourceSpec = {
  kind: 'namespace',
  alias: 'ns',
  section: 'namespaces',
  about: 'a group of domains, services, routes, modules, collections and secrets',
  fields: [NAME_FIELD, TAGS_FIELD],
};

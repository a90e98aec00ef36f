import { NAMESPACE_FIELD, type ResourceSpec } from './field.js';

/** Documents are addressed by (namespace, collection, id); their body is `data`. */
export const documentSpec: ResourceSpec = {
  kind: 'document',
  alias: 'doc',
  section: 'documents',
  about: "a JSON value stored in a collection (modules read and write them)",
  fields: [
    { name: 'id', type: 'string', required: true, about: 'the id (1-128 characters, no "/" or whitespace)' },
    NAMESPACE_FIELD,
    { name: 'collection', type: 'string', required: true, about: 'the collection it belongs to' },
    { name: 'data', type: 'json', required: true, about: "any JSON value, checked against the collection's schema" },
  ],
};

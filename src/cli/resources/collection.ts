import { NAME_FIELD, NAMESPACE_FIELD, TAGS_FIELD, type ResourceSpec } from './field.js';

export const collectionSpec: ResourceSpec = {
  kind: 'collection',
  alias: 'col',
  section: 'collections',
  about: 'a set of documents checked against a JSON Schema',
  fields: [
    NAME_FIELD,
    NAMESPACE_FIELD,
    { name: 'schema', type: 'json', default: {}, about: 'JSON Schema every document must satisfy ({} = anything)' },
    { name: 'visibility', type: 'string', values: ['public', 'private'], default: 'public', about: 'private: documents hidden from admin reads' },
    { name: 'type', type: 'string', values: ['document', 'fetcher'], default: 'document', about: 'the kind of collection' },
    TAGS_FIELD,
  ],
};

import { NAME_FIELD, NAMESPACE_FIELD, TAGS_FIELD, type ResourceSpec } from './field.js';

/** What the admin API (and `export`) shows instead of a secret's data: secrets are write-only. */
export const REDACTED = '**redacted**';

export const secretSpec: ResourceSpec = {
  kind: 'secret',
  alias: 'sec',
  section: 'secrets',
  about: 'a write-only value (never shown again by the admin API)',
  fields: [
    NAME_FIELD,
    NAMESPACE_FIELD,
    { name: 'data', type: 'string', required: true, about: 'the secret value (plain text)' },
    TAGS_FIELD,
  ],
};

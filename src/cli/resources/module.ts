import { NAME_FIELD, NAMESPACE_FIELD, TAGS_FIELD, type ResourceSpec } from './field.js';

export const moduleSpec: ResourceSpec = {
  kind: 'module',
  alias: 'mod',
  section: 'modules',
  about: 'TypeScript or JavaScript code run by routes',
  fields: [
    NAME_FIELD,
    NAMESPACE_FIELD,
    { name: 'payload', type: 'base64', required: true, canonical: withoutLineBreaks, about: 'the source, base64-encoded (payload@=file.ts encodes a file)' },
    { name: 'moduleType', type: 'string', values: ['typescript', 'javascript'], default: 'typescript', about: 'the language of the source' },
    TAGS_FIELD,
  ],
};

/** The server ignores line breaks inside base64 and stores it without them. */
function withoutLineBreaks(value: unknown): unknown {
  return typeof value === 'string' ? value.replace(/[\r\n]/g, '') : value;
}

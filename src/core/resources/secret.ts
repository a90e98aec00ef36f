import type { Secret } from '../types.js';
import type { ParseDefaults } from './fields.js';
import { compact, namespaceOf, readBody, requiredName, requiredString, tags } from './fields.js';

const FIELDS = ['name', 'namespace', 'data', 'tags'] as const;

/** What outputs show instead of a secret's data: secrets are write-only. */
export const REDACTED = '**redacted**';

/** A write-only value (plain text). */
export function parseSecret(input: unknown, defaults: ParseDefaults): Secret {
  const body = readBody(input, FIELDS);
  return compact({
    name: requiredName(body, 'name'),
    namespace: namespaceOf(body, defaults),
    data: requiredString(body, 'data'),
    tags: tags(body),
  });
}

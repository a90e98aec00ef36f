import { parseSecret, REDACTED } from '../../core/resources/secret.js';
import type { Secret } from '../../core/types.js';
import { defineResource } from '../resource.js';

/** /api/v1/secret. Secrets are write-only: every answer (and /changelog) shows `data` redacted. */
export const secretResource = defineResource({
  kind: 'secret',
  parse: parseSecret,
  output: (secret: Secret) => ({ ...secret, data: REDACTED }),
});

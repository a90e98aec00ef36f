import { invalidField } from '../../core/errors.js';
import { parseDomain } from '../../core/resources/domain.js';
import { REDACTED } from '../../core/resources/secret.js';
import type { Domain } from '../../core/types.js';
import { certificateProblem } from '../../tls/certificate-check.js';
import { defineResource } from '../resource.js';

/**
 * /api/v1/domain. Single GETs answer the same shape as lists (DGate answered an internal struct).
 * Without `?namespace=` and with the default namespace disabled, the list holds every namespace's domains.
 *
 * The private `key` is write-only, like a secret's data: answers (and /changelog) show it as
 * "**redacted**", and a PUT that sends that placeholder keeps the stored key (what `export` then
 * `apply` do). A certificate and key that cannot serve TLS together are refused (400, naming the field).
 */
export const domainResource = defineResource({
  kind: 'domain',
  parse: parseDomain,
  listAllWithoutDefault: true,
  output: (domain: Domain) => (domain.key === undefined ? domain : { ...domain, key: REDACTED }),
  complete: (domain: Domain, stored: Domain | undefined): Domain => {
    if (domain.key === REDACTED) {
      if (stored?.key === undefined) throw invalidField('key', `is the placeholder "${REDACTED}" but domain ${domain.name} has no stored key; send the PEM private key`);
      domain = { ...domain, key: stored.key };
    }
    if (domain.cert !== undefined && domain.key !== undefined) {
      const problem = certificateProblem(domain.cert, domain.key);
      if (problem !== null) throw invalidField(problem.field, problem.message);
    }
    return domain;
  },
});

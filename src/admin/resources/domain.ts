import { parseDomain } from '../../core/resources/domain.js';
import { defineResource } from '../resource.js';

/**
 * /api/v1/domain. Single GETs answer the same shape as lists (DGate answered an internal struct).
 * Without `?namespace=` and with the default namespace disabled, the list holds every namespace's domains.
 */
export const domainResource = defineResource({ kind: 'domain', parse: parseDomain, listAllWithoutDefault: true });

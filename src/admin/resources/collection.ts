import { parseCollection } from '../../core/resources/collection.js';
import { defineResource } from '../resource.js';

/**
 * /api/v1/collection. A bad JSON Schema is refused with ajv's message; a new schema must accept the
 * collection's existing documents; a collection with documents cannot be deleted.
 */
export const collectionResource = defineResource({ kind: 'collection', parse: parseCollection });

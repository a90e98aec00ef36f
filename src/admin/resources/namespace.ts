import { parseNamespace } from '../../core/resources/namespace.js';
import { defineResource } from '../resource.js';

/** /api/v1/namespace: deleting one is refused while any item (documents and secrets included) is in it. */
export const namespaceResource = defineResource({ kind: 'namespace', parse: parseNamespace });

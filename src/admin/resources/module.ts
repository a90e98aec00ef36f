import { parseModule } from '../../core/resources/module.js';
import { defineResource } from '../resource.js';

/** /api/v1/module: `payload` is the base64 source; `moduleType` is returned too (DGate dropped it). */
export const moduleResource = defineResource({ kind: 'module', parse: parseModule });

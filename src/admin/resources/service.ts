import { parseService } from '../../core/resources/service.js';
import { defineResource } from '../resource.js';

/** /api/v1/service: durations are answered as integer nanoseconds, whatever form they were sent in. */
export const serviceResource = defineResource({ kind: 'service', parse: parseService });

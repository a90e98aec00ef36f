import { parseRoute } from '../../core/resources/route.js';
import { defineResource } from '../resource.js';

/** /api/v1/route: `service` and `modules` must exist in the route's namespace; modules keep the order given. */
export const routeResource = defineResource({ kind: 'route', parse: parseRoute });

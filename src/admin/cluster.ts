import type { Membership } from '../cluster/membership.js';
import type { AdminContext } from './context.js';
import { envelope } from './reply.js';
import type { RouteDef } from './router.js';

/**
 * `GET /api/v1/cluster`: the live nodes, sorted by id, each with the revision it has applied:
 * `{"count":N,"data":[{id,address,tags,version,watchOnly,rev,lastSeen,startedAt,status,error}…],
 * "node":"<this node's id>","rev":<this node's revision>,"status_code":200}`.
 * A change answered with `X-DGate-Revision: R` is live everywhere once every listed node has rev >= R.
 */
export function clusterRoutes(ctx: AdminContext, cluster: Membership): RouteDef[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/cluster',
      async handler() {
        const self = cluster.self();
        const nodes = await cluster.list();
        return envelope(200, nodes, { node: self.id, rev: Math.max(self.rev, ctx.writer.state.rev) });
      },
    },
  ];
}

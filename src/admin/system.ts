import type { ChangeBatch } from '../core/change.js';
import type { AdminContext } from './context.js';
import { sortKeys } from './reply.js';
import { outputOf } from './resources/index.js';
import type { RouteDef } from './router.js';

export interface SystemOptions {
  version: string;
  health?: () => { healthy: boolean; error: string | null };
  /** `admin.watch_only`, shown in the `X-DGate-WatchOnly` header of `GET /` */
  watchOnly?: boolean;
  history: (fromRev: number, limit: number) => Promise<ChangeBatch[]>;
}

const DEFAULT_HISTORY_LIMIT = 100;
const MAX_HISTORY_LIMIT = 1000;

/**
 * Endpoints outside /api/v1:
 *   GET /           "DGate Admin API", with the current revision in X-DGate-ChangeHash and X-DGate-WatchOnly
 *   GET /changelog  {count, latest, rev}: the revision; with ?from=N[&limit=M] also the committed batches
 *   GET /healthz    always 200 while the process serves
 *   GET /readyz     503 until the gateway has loaded its state; then 200 {"status": "ok"}, or
 *                   200 {"status": "degraded", "error"} while it serves its last state without
 *                   following the store (etcd unreachable): it still serves traffic
 */
export function systemRoutes(ctx: AdminContext, opts: SystemOptions): RouteDef[] {
  const healthy = { status: 'ok', version: opts.version };
  return [
    {
      method: 'GET',
      path: '/',
      handler: () => ({
        status: 200,
        body: 'DGate Admin API',
        headers: { 'X-DGate-ChangeHash': String(ctx.writer.state.rev), 'X-DGate-WatchOnly': String(opts.watchOnly === true) },
      }),
    },
    {
      method: 'GET',
      path: '/changelog',
      async handler(req) {
        const rev = ctx.writer.state.rev;
        const body: Record<string, unknown> = { count: rev, latest: String(rev), rev };
        const from = req.integer('from', undefined);
        if (from !== undefined) {
          const limit = req.integer('limit', DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT);
          body.changes = (await opts.history(from, limit)).map(redactBatch);
        }
        return { status: 200, body: sortKeys(body) };
      },
    },
    { method: 'GET', path: '/healthz', handler: () => ({ status: 200, body: healthy }) },
    {
      method: 'GET',
      path: '/readyz',
      handler: () => {
        if (!ctx.ready()) return { status: 503, body: { status: 'not ready' } };
        const health = opts.health?.() ?? { healthy: true, error: null };
        return { status: 200, body: health.healthy ? healthy : { status: 'degraded', version: opts.version, error: health.error } };
      },
    },
  ];
}

/** A batch as the API may show it: items in their output shape, so secrets stay redacted. */
function redactBatch(batch: ChangeBatch): ChangeBatch {
  return {
    ...batch,
    changes: batch.changes.map((c) => (c.op === 'put' ? ({ ...c, item: outputOf(c.kind, c.item) } as typeof c) : c)),
  };
}

import type { Membership, NodeInfo } from '../cluster/membership.js';
import { Errors, invalidField } from '../core/errors.js';
import { isValidName, NAME_RULE } from '../core/names.js';
import type { NodeObservability } from '../observability/node-view.js';
import type { RawStats } from '../observability/stats/recent.js';
import { mergeStats, statsView, type StatsFilters } from '../observability/stats/view.js';
import type { AdminRequest } from './request.js';
import { sortKeys } from './reply.js';
import type { RouteDef } from './router.js';

export interface ObservabilityOptions {
  /** null with disable_metrics: both endpoints answer 404 DG_ERR_METRICS_DISABLED */
  observability: NodeObservability | null;
  cluster: Membership;
  nodeId: string;
  /** how a peer's stats are asked for with the caller's credentials (key auth by query parameter) */
  keyQueryParam?: string;
  /** the key auth header (admin.key_auth.header_name), passed on to peers with Authorization */
  keyHeader?: string;
}

/** How long a node waits for each other node's stats. */
const PEER_TIMEOUT_MS = 1500;
const FILTERS = ['namespace', 'route', 'service', 'module'] as const;
const PARAMS = new Set<string>([...FILTERS, 'scope', 'format']);

/** Which node answered a cluster stats request. */
interface NodeAnswer {
  id: string;
  address: string;
  answered: boolean;
  error: string | null;
}

function filtersOf(req: AdminRequest): StatsFilters & { scope: 'node' | 'cluster'; raw: boolean } {
  for (const name of req.query.keys()) if (!PARAMS.has(name)) throw invalidField(name, `unknown parameter (filters: ${FILTERS.join(', ')}; scope; format)`);
  const out: StatsFilters & { scope: 'node' | 'cluster'; raw: boolean } = { scope: 'cluster', raw: false };
  for (const f of FILTERS) {
    const v = req.query.get(f);
    if (v === null) continue;
    if (!isValidName(v)) throw invalidField(f, NAME_RULE);
    out[f] = v;
  }
  const scope = req.query.get('scope');
  if (scope !== null) {
    if (scope !== 'node' && scope !== 'cluster') throw invalidField('scope', 'must be node or cluster');
    out.scope = scope;
  }
  const format = req.query.get('format');
  if (format !== null) {
    if (format !== 'raw' && format !== 'summary') throw invalidField('format', 'must be summary or raw');
    out.raw = format === 'raw';
  }
  return out;
}

/**
 * `GET /metrics`: Prometheus text of this node (all its processes merged).
 * `GET /api/v1/stats[?namespace=&route=&service=&module=&scope=node|cluster]`: request and
 * module counts, errors and p50/p95/p99 latency over the last 1 min, 5 min and 1 h, for this
 * node or (default) the whole cluster: every other live node of the cluster view is asked for
 * its node stats (`scope=node&format=raw`) over its admin address, with the caller's
 * credentials and a short deadline; `nodes` says which ones answered.
 */
export function observabilityRoutes(opts: ObservabilityOptions): RouteDef[] {
  // the caller's credentials (basic or key auth) go to the peers with the question
  const forwarded = new Set(['authorization', (opts.keyHeader ?? 'X-DGate-Key').toLowerCase()]);
  const view = () => {
    if (opts.observability === null) throw Errors.METRICS_DISABLED();
    return opts.observability;
  };
  return [
    {
      method: 'GET',
      path: '/metrics',
      async handler() {
        const m = await view().metrics();
        return { status: 200, body: m.text, headers: { 'Content-Type': m.contentType } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/stats',
      async handler(req) {
        const obs = view();
        const f = filtersOf(req);
        const own = await obs.stats();
        if (f.raw) return { status: 200, body: { node: opts.nodeId, stats: own } };
        const parts: RawStats[] = [own];
        const nodes: NodeAnswer[] = [{ id: opts.nodeId, address: opts.cluster.self().address, answered: true, error: null }];
        if (f.scope === 'cluster') {
          let members: NodeInfo[] = [];
          try {
            members = await opts.cluster.list();
          } catch (err) {
            nodes.push({ id: '*', address: '', answered: false, error: `cluster view unavailable: ${(err as Error).message}` });
          }
          const peers = members.filter((n) => n.id !== opts.nodeId);
          const answers = await Promise.all(peers.map((p) => askPeer(p, req, forwarded, opts.keyQueryParam)));
          for (let i = 0; i < peers.length; i++) {
            const a = answers[i]!;
            nodes.push({ id: peers[i]!.id, address: peers[i]!.address, answered: a.stats !== null, error: a.error });
            if (a.stats !== null) parts.push(a.stats);
          }
        }
        const filters: Record<string, string> = {};
        for (const k of FILTERS) if (f[k] !== undefined) filters[k] = f[k]!;
        const summary = statsView(mergeStats(parts), f);
        return {
          status: 200,
          body: sortKeys({ status_code: 200, node: opts.nodeId, scope: f.scope, filters, nodes: nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), ...summary }),
        };
      },
    },
  ];
}

async function askPeer(peer: NodeInfo, req: AdminRequest, forwarded: ReadonlySet<string>, keyQueryParam: string | undefined): Promise<{ stats: RawStats | null; error: string | null }> {
  const headers: Record<string, string> = {};
  const raw = req.raw.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (forwarded.has(raw[i]!.toLowerCase())) headers[raw[i]!] = raw[i + 1]!;
  let url = `${peer.address.replace(/\/+$/, '')}/api/v1/stats?scope=node&format=raw`;
  const key = keyQueryParam === undefined ? null : req.query.get(keyQueryParam);
  if (keyQueryParam !== undefined && key !== null) url += `&${encodeURIComponent(keyQueryParam)}=${encodeURIComponent(key)}`;
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(PEER_TIMEOUT_MS) });
    const text = await res.text();
    if (res.status !== 200) return { stats: null, error: `answered ${res.status}: ${text.slice(0, 200).trim()}` };
    const body = JSON.parse(text) as { stats?: RawStats };
    if (typeof body !== 'object' || body === null || typeof body.stats !== 'object' || body.stats === null) return { stats: null, error: 'answered without stats' };
    return { stats: { routes: Array.isArray(body.stats.routes) ? body.stats.routes : [], modules: Array.isArray(body.stats.modules) ? body.stats.modules : [] }, error: null };
  } catch (err) {
    const e = err as Error;
    return { stats: null, error: e.name === 'TimeoutError' ? `no answer within ${PEER_TIMEOUT_MS} ms` : e.message };
  }
}

import type { StatsQuery, StatsReport, StatsWindow, StatsWindows } from '../../client/types.js';
import { printJson } from '../io.js';
import { parseCommandFlags } from './command-flags.js';
import type { CommandContext } from './context.js';

export const STATS_HELP = `Usage: dgate-cli [global flags] stats [--namespace NS] [--route R] [--service S] [--module M]
                                  [--node] [--json | --table]

Requests and module calls over the last 1 min, 5 min and 1 h (GET /api/v1/stats): counts,
errors (answers 5xx; module calls that threw, rejected or timed out) and p50/p95/p99 latency
in ms, per route and per module, with a TOTAL of the routes shown. The whole cluster unless
--node (only the node asked); the nodes that did not answer in time are named.

  --namespace, --route   only these (routes and modules)
  --service              only the routes of this service (and the modules on them)
  --module               only this module, and the routes it ran on
  --node                 this node only, not the cluster
  --json                 the API's JSON answer (the default when stdout is not a terminal)
  --table                the table (the default on a terminal)
`;

const WINDOWS = ['1m', '5m', '1h'] as const;

/** `dgate-cli stats`: a table on a terminal (or with --table), else the JSON answer. */
export async function statsCommand(args: readonly string[], ctx: CommandContext): Promise<void> {
  const { values, switches } = parseCommandFlags(args, 'stats', {
    values: { '--namespace': 'namespace', '-n': 'namespace', '--route': 'route', '--service': 'service', '--module': 'module' },
    switches: ['--node', '--json', '--table'],
  });
  const query: StatsQuery = { ...values, scope: switches.has('--node') ? 'node' : 'cluster' };
  const client = await ctx.client();
  const report = await client.stats(query);
  const table = switches.has('--table') || (!switches.has('--json') && ctx.io.isTTY);
  if (!table) {
    printJson(ctx.io, report);
    return;
  }
  ctx.io.stdout.write(statsTable(report));
}

function ms(v: number | null): string {
  if (v === null) return '-';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function cells(w: StatsWindows): string[] {
  return WINDOWS.flatMap((name) => {
    const s: StatsWindow = w[name];
    return [String(s.requests), String(s.errors), `${ms(s.p50)}/${ms(s.p95)}/${ms(s.p99)}`];
  });
}

function align(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** The report as aligned tables: nodes line, routes (with TOTAL), then modules when any ran. */
export function statsTable(r: StatsReport): string {
  const head = WINDOWS.flatMap((w) => [`REQ ${w}`, `ERR ${w}`, `P50/P95/P99 ms ${w}`]);
  const answered = r.nodes.filter((n) => n.answered).map((n) => n.id);
  const missing = r.nodes.filter((n) => !n.answered).map((n) => `${n.id}: ${n.error ?? 'no answer'}`);
  let out = `${r.scope === 'cluster' ? 'cluster' : 'node'} stats from ${answered.join(', ') || '-'}${missing.length > 0 ? `; not answered: ${missing.join('; ')}` : ''}\n`;
  const routes = [['NAMESPACE', 'ROUTE', 'SERVICE', ...head], ...r.routes.map((x) => [x.namespace, x.route || '(none)', x.service || '-', ...cells(x.windows)]), ['TOTAL', '', '', ...cells(r.total)]];
  out += align(routes);
  if (r.modules.length > 0) {
    out += '\n' + align([['NAMESPACE', 'ROUTE', 'MODULE', ...head], ...r.modules.map((x) => [x.namespace, x.route, x.module, ...cells(x.windows)])]);
  }
  return out;
}

import type { ClusterNode } from '../../client/types.js';
import { printJson } from '../io.js';
import { UsageError } from '../usage-error.js';
import type { CommandContext } from './context.js';

export const CLUSTER_HELP = `Usage: dgate-cli [global flags] cluster     (alias: nodes)

Shows the gateway's live nodes (GET /api/v1/cluster), sorted by id: id, admin address, tags,
version, the revision each has applied, when it last reported itself, and its status:
  ok        serves the newest revision any node reports
  behind    has applied fewer revisions than another node (a change on its way, or stuck)
  degraded  could not apply a batch: keeps its previous state; the error is shown
  (ro)      after the status: a watch_only node (refuses admin writes)

On a terminal it prints a table; otherwise a JSON array of the nodes.
A gateway on its own lists one node. See also --wait-all in 'dgate-cli --help'.
`;

/** `dgate-cli cluster`: the table of nodes on a terminal, else their JSON. */
export async function clusterCommand(args: readonly string[], ctx: CommandContext): Promise<void> {
  if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`, 'cluster');
  const client = await ctx.client();
  const { nodes } = await client.cluster();
  if (!ctx.io.isTTY) {
    printJson(ctx.io, nodes);
    return;
  }
  ctx.io.stdout.write(clusterTable(nodes, new Date()));
}

/** Aligned columns with a header line; `now` makes "last seen" relative. */
export function clusterTable(nodes: readonly ClusterNode[], now: Date): string {
  const rows = [
    ['ID', 'ADDRESS', 'TAGS', 'VERSION', 'REV', 'LAST SEEN', 'STATUS'],
    ...nodes.map((n) => [
      n.id,
      n.address,
      n.tags.join(',') || '-',
      n.version,
      String(n.rev),
      ago(n.lastSeen, now),
      `${n.status}${n.watchOnly ? ' (ro)' : ''}${n.error === null ? '' : `: ${n.error}`}`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

function ago(iso: string, now: Date): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso || '-';
  const s = Math.max(0, Math.round((now.getTime() - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s ago`;
  return iso;
}

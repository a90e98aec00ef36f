import type { ModuleLogLine, ModuleLogQuery } from '../../client/types.js';
import { CommandError } from '../command-error.js';
import { UsageError } from '../usage-error.js';
import { parseCommandFlags } from './command-flags.js';
import type { CommandContext } from './context.js';

export const LOGS_HELP = `Usage: dgate-cli [global flags] logs [-f] [filters] [-o text|json]

Shows the module log lines of the node the admin URL points at (GET /api/v1/logs): console
output and uncaught errors of module code, from every proxy process of that node, oldest first.
A line saying "N lines dropped" stands for lines of its module that were not kept (the module
logged faster than proxy.module_logs.rate_limit, or a follower read too slowly).

Flags:
  -f, --follow          keep printing new lines as they are logged (until interrupted)
  -n, --namespace N     only this namespace
  -m, --module M        only this module
  -r, --route R         only lines logged while this route's modules ran
  -l, --level L         this level and above: debug, info, warn or error
  --since S             lines since an RFC 3339 time (2024-05-01T12:00:00Z) or a duration back
                        from now (30s, 10m, 1h)
  --limit N             the newest N lines (default 100, at most 10000); with -f, the lines
                        printed before following
  -o, --output F        text (default on a terminal) or json (one object per line; default
                        otherwise)
`;

const FLAGS = {
  values: {
    '-n': 'namespace',
    '--namespace': 'namespace',
    '-m': 'module',
    '--module': 'module',
    '-r': 'route',
    '--route': 'route',
    '-l': 'level',
    '--level': 'level',
    '--since': 'since',
    '--limit': 'limit',
    '-o': 'output',
    '--output': 'output',
  },
  switches: ['-f', '--follow'],
} as const;

/** `dgate-cli logs [-f] …`: one line per log line (text or JSON), following with -f until interrupted. */
export async function logsCommand(args: readonly string[], ctx: CommandContext): Promise<void> {
  const { values, switches } = parseCommandFlags(args, 'logs', FLAGS);
  const output = values.output ?? (ctx.io.isTTY ? 'text' : 'json');
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output: expected text or json, got "${output}"`, 'logs');
  if (values.limit !== undefined && !/^\d+$/.test(values.limit)) throw new UsageError(`--limit: expected a whole number, got "${values.limit}"`, 'logs');
  // level and since are checked by the server (400 naming the field)
  const query: ModuleLogQuery = {
    namespace: values.namespace,
    module: values.module,
    route: values.route,
    level: values.level as ModuleLogQuery['level'],
    since: values.since,
    limit: values.limit === undefined ? undefined : Number(values.limit),
  };
  const print = (line: ModuleLogLine) => ctx.io.stdout.write(output === 'json' ? `${JSON.stringify(line)}\n` : textLine(line));
  const client = await ctx.client();

  if (!switches.has('-f') && !switches.has('--follow')) {
    const page = await client.logs(query);
    for (const line of page.lines) print(line);
    for (const d of page.dropped) ctx.io.stderr.write(`dgate-cli: logs: ${d.namespace}/${d.module ?? '?'}: ${d.dropped} lines dropped since the node started\n`);
    return;
  }
  const interrupted = await client.followLogs(query, print, ctx.io.interrupts?.());
  if (!interrupted) throw new CommandError('logs: the server ended the stream');
}

/** `2024-05-01T12:00:00.000Z info  ns/module route=r request=id  message` (later lines of a message indented). */
export function textLine(l: ModuleLogLine): string {
  const where = [`${l.namespace}/${l.module ?? '?'}`];
  if (l.route !== null) where.push(`route=${l.route}`);
  if (l.requestId !== null) where.push(`request=${l.requestId}`);
  return `${l.time} ${l.level.padEnd(5)} ${where.join(' ')}  ${l.message.replace(/\n/g, '\n    ')}\n`;
}

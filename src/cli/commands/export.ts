import { writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { CommandError } from '../command-error.js';
import { readCurrentState } from '../declarative/current-state.js';
import type { ExportFormat } from '../declarative/export-file.js';
import { exportFile, formatFile } from '../declarative/export-file.js';
import { REDACTED } from '../resources/secret.js';
import { UsageError } from '../usage-error.js';
import { parseCommandFlags } from './command-flags.js';
import type { CommandContext } from './context.js';

export const EXPORT_HELP = `Usage: dgate-cli [global flags] export [--namespace N] [-o FILE] [--format yaml|json]

Writes the gateway's items as a declarative file that 'dgate-cli apply' accepts: applying it
to the same gateway changes nothing. Sections come in dependency order (namespaces first),
items sorted by namespace and name, with the fields the admin API answers.

Secrets are written with data: "${REDACTED}" and domains with key: "${REDACTED}": values
and private keys cannot be read back. apply keeps the stored value for that placeholder; put
the real value in the file to set it elsewhere.
Documents of private collections cannot be read through the admin API and are left out
(a note on stderr names the collection).

Flags:
  -n, --namespace N  only this namespace (default: every namespace)
  -o, --output FILE  write to FILE instead of stdout
  --format F         yaml (default) or json; with -o FILE.json, json
`;

/** `dgate-cli export [--namespace N] [-o FILE] [--format yaml|json]`. */
export async function exportCommand(args: readonly string[], ctx: CommandContext): Promise<void> {
  const { values } = parseCommandFlags(args, 'export', {
    values: { '-n': 'namespace', '--namespace': 'namespace', '-o': 'output', '--output': 'output', '--format': 'format' },
    switches: [],
  });
  const format = values.format ?? (values.output !== undefined && extname(values.output).toLowerCase() === '.json' ? 'json' : 'yaml');
  if (format !== 'yaml' && format !== 'json') throw new UsageError(`--format: expected yaml or json, got "${format}"`, 'export');

  const client = await ctx.client();
  // a missing namespace is the server's 404, in its words
  if (values.namespace !== undefined) await client.get('namespace', values.namespace);
  const current = await readCurrentState(client, values.namespace === undefined ? 'all' : [values.namespace]);
  for (const c of current.privateCollections) {
    ctx.io.stderr.write(`dgate-cli: export: documents of private collection ${c} cannot be read through the admin API and are left out\n`);
  }
  const text = formatFile(exportFile(current.entries.values()), format as ExportFormat);
  if (values.output === undefined) {
    ctx.io.stdout.write(text);
    return;
  }
  try {
    writeFileSync(resolve(ctx.cwd, values.output), text);
  } catch (err) {
    throw new CommandError(`export: cannot write ${values.output}: ${(err as Error).message}`, { cause: err });
  }
  ctx.io.stderr.write(`Exported ${current.entries.size} items to ${values.output}.\n`);
}

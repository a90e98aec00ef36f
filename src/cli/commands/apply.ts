import { readCurrentState } from '../declarative/current-state.js';
import { loadDeclarativeFile } from '../declarative/load-file.js';
import { planApply } from '../declarative/plan.js';
import { doneLine, planLine, summaryLine } from '../declarative/plan-report.js';
import { runPlan } from '../declarative/run-plan.js';
import { REDACTED } from '../resources/secret.js';
import { UsageError } from '../usage-error.js';
import { parseCommandFlags } from './command-flags.js';
import type { CommandContext } from './context.js';

export const APPLY_HELP = `Usage: dgate-cli [global flags] apply -f FILE [--dry-run] [--prune]

Makes the gateway match a declarative file (YAML, or JSON for *.json): creates and updates
items in dependency order (namespaces, modules, services, routes, domains, collections,
documents, secrets), skipping those already equal to the file. Running it twice changes
nothing the second time.

The file has DGate's init_resources shape, with the admin API's field names:

  namespaces: [{name: app}]
  modules:
    - {name: m, namespace: app, payload_file: m.ts}   # or payload: <base64 of the source>
  services:
    - {name: api, namespace: app, urls: [http://127.0.0.1:3000], retryTimeout: 50ms}
  routes:
    - {name: api, namespace: app, paths: ["/api/*"], methods: ["*"], service: api, stripPath: true}
  domains, collections, documents ({id, namespace, collection, data}), secrets: likewise

Items without a namespace go to "default". payload_file is read relative to the file.
Secrets cannot be read back, so a secret with a value is written every time; data: "${REDACTED}"
(what export writes) keeps the stored value.

Flags:
  -f, --file FILE   the file to apply (required)
  --dry-run         print the plan (+ create, ~ update with the fields, - delete, ? unknown)
                    and change nothing
  --prune           also delete the items of the namespaces the file names (as namespaces
                    or in items) that the file does not list, in reverse dependency order;
                    documents included; namespaces themselves are never deleted
`;

/** `dgate-cli apply -f FILE [--dry-run] [--prune]`. Exit 1 at the first failed request, naming the item. */
export async function applyCommand(args: readonly string[], ctx: CommandContext): Promise<void> {
  const { values, switches } = parseCommandFlags(args, 'apply', { values: { '-f': 'file', '--file': 'file' }, switches: ['--dry-run', '--prune'] });
  if (values.file === undefined) throw new UsageError('missing the file to apply (-f FILE)', 'apply');
  const dryRun = switches.has('--dry-run');
  const entries = loadDeclarativeFile(values.file, ctx.cwd);
  const client = await ctx.client();
  const current = await readCurrentState(client, [...new Set(entries.map((e) => e.namespace))]);
  const steps = planApply(entries, current, switches.has('--prune'));
  const out = (line: string) => ctx.io.stdout.write(`${line}\n`);
  if (dryRun) {
    for (const step of steps) {
      const line = planLine(step);
      if (line !== null) out(line);
    }
  } else {
    await runPlan(client, steps, (step) => out(doneLine(step)));
  }
  out(summaryLine(steps, dryRun));
}

import type { FieldSpec, ResourceSpec } from './resources/field.js';
import { typeLabel } from './resources/field.js';
import { SPECS_FOR_HELP } from './resources/index.js';
import type { Verb } from './verbs.js';
import { VERBS, verbContract } from './verbs.js';

export const ROOT_HELP = `Usage: dgate-cli [global flags] <resource> <verb> [key=value | key:=json | key@=file …]
       dgate-cli [global flags] apply -f FILE [--dry-run] [--prune]
       dgate-cli [global flags] export [--namespace N] [-o FILE] [--format yaml|json]
       dgate-cli [global flags] cluster

Manages a DGate gateway through its admin API.

Resources:
${SPECS_FOR_HELP.map((s) => `  ${`${s.kind}, ${s.alias}`.padEnd(18)}${s.about}`).join('\n')}

Verbs:
${VERBS.map((v) => `  ${(v.alias ? `${v.verb}, ${v.alias}` : v.verb).padEnd(18)}${v.about}`).join('\n')}

Commands:
  apply             create, update (and with --prune delete) items to match a YAML/JSON file
  export            write the gateway's items as a file that apply accepts
  module test FILE  run modules without a server and show what the gateway would do
  cluster, nodes    list the gateway's nodes with the revision each has applied

Global flags (before the resource):
  --admin URL       admin API address (default http://localhost:9080; env DGATE_ADMIN_API);
                    https:// for admin.tls (a self-signed certificate: env NODE_EXTRA_CA_CERTS=FILE)
  -a, --auth USER:PASS
                    basic auth (env DGATE_ADMIN_AUTH); USER alone asks for the password on a terminal
  --key KEY         key auth, sent in X-DGate-Key (env DGATE_ADMIN_KEY)
  --key-header NAME the header for --key (env DGATE_ADMIN_KEY_HEADER)
  -f, --follow      follow redirects (env DGATE_FOLLOW_REDIRECTS)
  -V, --verbose     print each request to stderr: METHOD URL - STATUS DURATION
  --wait-all        after a write (create, delete, apply, document …), wait until every node
                    of the cluster has applied it (X-DGate-Revision, GET /api/v1/cluster)
  --wait-timeout D  how long --wait-all waits (default 30s); on timeout exit 1 naming the
                    nodes still behind
  -h, --help        show help (also after any command: dgate-cli route create --help)
  -v, --version     print the version

Arguments:
  key=value         text; lists split on commas (methods=GET,POST), integers and true/false converted
  key:=json         raw JSON (priority:=10, stripPath:=true, paths:='["/","/{id}"]'); key:=@file reads JSON
  key@=file         a file's text; base64-encoded for a module's payload (payload@=module.ts)
  namespace=NAME    the namespace for every verb (default: the server's default namespace)

Exit status: 0 success, 1 error from the server or no connection, 2 usage error.
`;

export function resourceHelp(spec: ResourceSpec): string {
  const lines = [
    `Usage: dgate-cli [global flags] ${spec.kind} <verb> [arguments]`,
    '',
    `${spec.kind} (${spec.alias}): ${spec.about}.`,
    '',
    'Verbs:',
    ...VERBS.map((v) => `  ${(v.alias ? `${v.verb}, ${v.alias}` : v.verb).padEnd(14)}${usageLine(spec, v.verb)}`),
    ...(spec.kind === 'module' ? [`  ${'test'.padEnd(14)}module test FILE [FILE...] [flags]   (runs modules without a server)`] : []),
    '',
    'Fields:',
    ...fieldLines(spec.fields),
    '',
    `Run 'dgate-cli ${spec.kind} <verb> --help' for what a verb takes.`,
  ];
  return `${lines.join('\n')}\n`;
}

export function verbHelp(spec: ResourceSpec, verb: Verb): string {
  const contract = verbContract(spec, verb);
  const describe = VERBS.find((v) => v.verb === verb)!.describe;
  const lines = [`Usage: dgate-cli [global flags] ${usageLine(spec, verb)}`, '', describe(spec.kind)];
  if (contract.positional !== undefined) lines.push(`The ${contract.positional.name} may also be given as a bare word: dgate-cli ${spec.kind} ${verb} <${contract.positional.name}>.`);
  if (contract.required.length > 0) lines.push('', 'Required fields:', ...fieldLines(contract.required));
  if (contract.optional.length > 0) lines.push('', 'Optional fields:', ...fieldLines(contract.optional));
  if (contract.flags.length > 0) lines.push('', 'Flags:', ...contract.flags.map((f) => `  ${f.flag.padEnd(22)}${f.about}`));
  lines.push('', "Values: key=value (text, lists a,b,c), key:=json, key@=file. See 'dgate-cli --help'.");
  return `${lines.join('\n')}\n`;
}

function usageLine(spec: ResourceSpec, verb: Verb): string {
  const c = verbContract(spec, verb);
  const arg = (f: FieldSpec) => `${f.name}${f.type === 'json' ? ':=' : '='}…`;
  const required = c.required.map(arg);
  if (spec.kind === 'document' && verb === 'delete') required.splice(0, 1, '(id=… | --all)');
  // a long list of optional fields is left to the field table below
  const optional = c.optional.length > 3 ? ['[field=value …]'] : c.optional.map((f) => `[${arg(f)}]`);
  return [spec.kind, verb, ...required, ...optional].join(' ');
}

/** "  name           type (default)   about" for each field. */
function fieldLines(fields: readonly FieldSpec[]): string[] {
  const types = fields.map((f) => (f.default === undefined ? typeLabel(f) : `${typeLabel(f)} (default ${JSON.stringify(f.default)})`));
  const width = Math.max(...types.map((t) => t.length)) + 2;
  return fields.map((f, i) => `  ${f.name.padEnd(20)}${types[i]!.padEnd(width)}${f.about}`);
}

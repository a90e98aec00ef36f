import { readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ModuleTestSetupError, runModuleTest, type ModuleTestInput } from '../../module-test/index.js';
import { CommandError } from '../command-error.js';
import { printJson } from '../io.js';
import { UsageError } from '../usage-error.js';
import type { CommandContext } from './context.js';

export const MODULE_TEST_HELP = `Usage: dgate-cli module test FILE [FILE...] [flags]

Runs modules the way the gateway would, without a server: an in-process gateway gets the
modules (in the order given; each named after its file), a route using them and, unless a
module answers by itself, a stub upstream; the request is sent through its proxy. Prints what
happened as JSON:
  upstream  the request sent upstream (URL chosen, method, headers, body), or null
  response  the answer the client got (status, headers, body)
  logs      the modules' console output and errors
  notes     hooks that cannot run on this route, upstream flags that were not used
            (also written to stderr)

Request:
  --method M               default GET
  --path P                 path and query, default /
  --host H                 Host header
  --header 'Name: value'   repeatable
  --body TEXT | --body-file FILE
  --request FILE           JSON or YAML with {request, upstream, route, resources}; flags override it

Route:
  --route-path P           repeatable, default / and /*
  --strip-path, --preserve-host

Upstream (default: none when a module exports requestHandler, else a stub answering 200
with an empty body):
  --upstream-status N, --upstream-header 'Name: value' (repeatable), --upstream-body TEXT
  --upstream-url URL       send to a real upstream instead of the stub
  --no-upstream            a route without a service
A requestHandler runs only on a route without a service, as in the gateway: with one, upstream
flags are not used, and fetchUpstream/responseModifier never run (notes say so).
`;

const VALUE_FLAGS = new Set(['--method', '--path', '--host', '--header', '--body', '--body-file', '--request', '--route-path', '--upstream-status', '--upstream-header', '--upstream-body', '--upstream-url']);
const SWITCHES = new Set(['--strip-path', '--preserve-host', '--no-upstream']);

function header(text: string, flag: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new UsageError(`${flag}: expected 'Name: value', got "${text}"`, 'module test');
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}

/** `dgate-cli module test FILE... [flags]` */
export async function moduleTestCommand(args: readonly string[], ctx: CommandContext): Promise<void> {
  const files: string[] = [];
  const values: Record<string, string[]> = {};
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    if (VALUE_FLAGS.has(flag)) {
      const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new UsageError(`flag ${flag} needs a value`, 'module test');
      (values[flag] ??= []).push(value);
    } else if (SWITCHES.has(arg)) switches.add(arg);
    else if (arg.startsWith('-')) throw new UsageError(`unknown flag for module test: ${arg}`, 'module test');
    else files.push(arg);
  }
  if (files.length === 0) throw new UsageError('module test: give at least one module file', 'module test');
  const one = (flag: string) => values[flag]?.at(-1);
  const read = (file: string, what: string) => {
    try {
      return readFileSync(resolve(ctx.cwd, file), 'utf8');
    } catch (err) {
      throw new UsageError(`${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'module test');
    }
  };

  let input: ModuleTestInput = { modules: [] };
  const requestFile = one('--request');
  if (requestFile !== undefined) {
    const text = read(requestFile, '--request');
    try {
      input = { ...(parseYaml(text) as Partial<ModuleTestInput>), modules: [] };
    } catch (err) {
      throw new UsageError(`--request: ${requestFile} is not valid JSON or YAML: ${(err as Error).message}`, 'module test');
    }
  }
  input.modules = files.map((file) => ({
    name: basename(file, extname(file)),
    source: read(file, 'module'),
    moduleType: /\.(m?js|cjs)$/.test(file) ? 'javascript' : 'typescript',
  }));

  const request = { ...(input.request ?? {}) };
  if (one('--method') !== undefined) request.method = one('--method')!.toUpperCase();
  if (one('--path') !== undefined) request.path = one('--path');
  if (one('--host') !== undefined) request.host = one('--host');
  if (values['--header'] !== undefined) request.headers = { ...(request.headers ?? {}), ...Object.fromEntries(values['--header'].map((h) => header(h, '--header'))) };
  if (one('--body') !== undefined) request.body = one('--body');
  if (one('--body-file') !== undefined) request.body = read(one('--body-file')!, '--body-file');
  input.request = request;

  const route = { ...(input.route ?? {}) };
  if (values['--route-path'] !== undefined) route.paths = values['--route-path'];
  if (switches.has('--strip-path')) route.stripPath = true;
  if (switches.has('--preserve-host')) route.preserveHost = true;
  input.route = route;

  if (switches.has('--no-upstream')) input.upstream = null;
  else if (one('--upstream-url') !== undefined) input.upstream = { url: one('--upstream-url')! };
  else if (['--upstream-status', '--upstream-header', '--upstream-body'].some((f) => values[f] !== undefined)) {
    const status = one('--upstream-status');
    if (status !== undefined && !/^\d{3}$/.test(status)) throw new UsageError(`--upstream-status: expected a status code, got "${status}"`, 'module test');
    input.upstream = {
      ...(status !== undefined ? { status: Number(status) } : {}),
      ...(values['--upstream-header'] !== undefined ? { headers: Object.fromEntries(values['--upstream-header'].map((h) => header(h, '--upstream-header'))) } : {}),
      ...(one('--upstream-body') !== undefined ? { body: one('--upstream-body') } : {}),
    };
  }

  try {
    const result = await runModuleTest(input);
    printJson(ctx.io, result);
    for (const note of result.notes) ctx.io.stderr.write(`note: ${note}\n`);
  } catch (err) {
    if (err instanceof ModuleTestSetupError) throw new CommandError(err.message);
    throw err;
  }
}

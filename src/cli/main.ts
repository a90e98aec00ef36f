import { AdminClient } from '../client/admin-client.js';
import { AdminApiError, AdminConnectionError, AdminRedirectError, AdminWaitTimeoutError } from '../client/errors.js';
import type { AdminAuth, RequestRecord } from '../client/types.js';
import { CommandError } from './command-error.js';
import { applyCommand, APPLY_HELP } from './commands/apply.js';
import { CLUSTER_HELP, clusterCommand } from './commands/cluster.js';
import type { CommandContext } from './commands/context.js';
import { createCommand } from './commands/create.js';
import { deleteCommand } from './commands/delete.js';
import { documentCommand } from './commands/document.js';
import { exportCommand, EXPORT_HELP } from './commands/export.js';
import { getCommand } from './commands/get.js';
import { listCommand } from './commands/list.js';
import { LOGS_HELP, logsCommand } from './commands/logs.js';
import { MODULE_TEST_HELP, moduleTestCommand } from './commands/module-test.js';
import { STATS_HELP, statsCommand } from './commands/stats.js';
import type { GlobalOptions } from './global-options.js';
import { parseGlobalOptions } from './global-options.js';
import { resourceHelp, ROOT_HELP, verbHelp } from './help.js';
import type { CliIo } from './io.js';
import { promptPassword } from './password-prompt.js';
import type { ResourceSpec } from './resources/field.js';
import { findSpec } from './resources/index.js';
import { UsageError } from './usage-error.js';
import type { Verb } from './verbs.js';
import { findVerb } from './verbs.js';
import { cliVersion } from './version.js';

export type { CliIo } from './io.js';

type Run = (args: readonly string[], ctx: CommandContext) => Promise<void>;

const RESOURCE_VERBS: Readonly<Record<Verb, (spec: ResourceSpec, args: readonly string[], ctx: CommandContext) => Promise<void>>> = {
  create: createCommand,
  delete: deleteCommand,
  list: listCommand,
  get: getCommand,
};

/**
 * dgate-cli: `dgate-cli [global flags] <resource> <verb> [args…]`, `apply` and `export`.
 * Resolves with the exit code: 0 success, 1 an error from the server or no connection,
 * 2 a usage error (one line saying what is wrong, then where the help is).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { options, rest } = parseGlobalOptions(argv, io.env);
    if (options.version) {
      io.stdout.write(`dgate-cli version ${cliVersion()}\n`);
      return 0;
    }
    // `dgate-cli -h route create` is `dgate-cli route create --help`
    const command = resolveCommand(options.help ? [...rest, '--help'] : rest);
    if (command.help !== null) {
      io.stdout.write(command.help);
      return 0;
    }
    const ctx = commandContext(io, options);
    await command.run(command.args, ctx);
    if (options.waitAll) await waitAll(ctx, options);
    return 0;
  } catch (err) {
    return report(io, err);
  }
}

interface ResolvedCommand {
  /** the help to print instead of running (asked for with --help, or no verb given) */
  help: string | null;
  run: Run;
  args: readonly string[];
}

function resolveCommand(rest: readonly string[]): ResolvedCommand {
  const [word, ...after] = rest;
  const wantsHelp = (args: readonly string[]) => args.includes('--help') || args.includes('-h');
  const nothing: Run = async () => {};
  if (word === undefined) return { help: ROOT_HELP, run: nothing, args: [] };
  if (word === 'help') return resolveCommand([...after, '--help']);
  if (word === 'apply') return { help: wantsHelp(after) ? APPLY_HELP : null, run: applyCommand, args: after };
  if (word === 'cluster' || word === 'nodes') return { help: wantsHelp(after) ? CLUSTER_HELP : null, run: clusterCommand, args: after };
  if (word === 'stats') return { help: wantsHelp(after) ? STATS_HELP : null, run: statsCommand, args: after };
  if (word === 'logs') return { help: wantsHelp(after) ? LOGS_HELP : null, run: logsCommand, args: after };
  if (word === 'export') return { help: wantsHelp(after) ? EXPORT_HELP : null, run: exportCommand, args: after };
  if (word === '--help' || word === '-h') return { help: ROOT_HELP, run: nothing, args: [] };

  const spec = findSpec(word);
  if (spec === undefined) throw new UsageError(`unknown command "${word}"`);
  const [verbWord, ...args] = after;
  if (verbWord === undefined || verbWord === '--help' || verbWord === '-h') return { help: resourceHelp(spec), run: nothing, args: [] };
  if (spec.kind === 'module' && verbWord === 'test') return { help: wantsHelp(args) ? MODULE_TEST_HELP : null, run: moduleTestCommand, args };
  const verb = findVerb(verbWord);
  if (verb === undefined) throw new UsageError(`unknown verb "${verbWord}" for ${spec.kind} (create, delete, list or get)`, spec.kind);
  if (wantsHelp(args)) return { help: verbHelp(spec, verb), run: nothing, args: [] };
  const run: Run =
    spec.kind === 'document' ? (a, ctx) => documentCommand(verb, a, ctx) : (a, ctx) => RESOURCE_VERBS[verb](spec, a, ctx);
  return { help: null, run, args };
}

function commandContext(io: CliIo, options: GlobalOptions): CommandContext {
  let client: Promise<AdminClient> | undefined;
  return {
    io,
    cwd: io.cwd ?? process.cwd(),
    client: () => (client ??= buildClient(io, options)),
  };
}

/**
 * `--wait-all`: once the command's writes are answered, polls GET /api/v1/cluster until every
 * node has applied the highest X-DGate-Revision they were answered with (nothing to wait for
 * when the command wrote nothing). Exit 1 on timeout, naming the nodes still behind.
 */
async function waitAll(ctx: CommandContext, options: GlobalOptions): Promise<void> {
  const client = await ctx.client();
  const rev = client.lastRevision;
  if (rev === null) return;
  await client.waitForRevision(rev, { timeoutMs: options.waitTimeoutMs });
}

async function buildClient(io: CliIo, options: GlobalOptions): Promise<AdminClient> {
  let auth: AdminAuth | undefined;
  if (options.auth !== undefined && 'password' in options.auth && options.auth.password === null) {
    const { username } = options.auth;
    if (io.stdin?.isTTY !== true) {
      throw new UsageError(`--auth: the password for ${username} is missing (give ${username}:PASSWORD; it is asked for only on a terminal)`);
    }
    const password = await promptPassword(io, username);
    if (password === null) throw new UsageError('--auth: no password given');
    auth = { username, password };
  } else {
    auth = options.auth as AdminAuth | undefined;
  }
  return new AdminClient({
    baseUrl: options.adminUrl,
    auth,
    followRedirects: options.follow,
    onRequest: options.verbose ? (r) => io.stderr.write(`${verboseLine(r)}\n`) : undefined,
  });
}

/** `-V`: `PUT http://localhost:9080/api/v1/route - 201 3.42ms` (DGate's line, without the protocol). */
function verboseLine(r: RequestRecord): string {
  const d = r.durationMs;
  const duration = d >= 1000 ? `${(d / 1000).toFixed(3)}s` : `${d.toFixed(3)}ms`;
  return `${r.method} ${r.url} - ${r.status ?? 'failed'} ${duration}`;
}

/** Writes the error to stderr and returns the exit code. */
function report(io: CliIo, err: unknown): number {
  if (err instanceof UsageError) {
    const where = err.command === '' ? 'dgate-cli --help' : `dgate-cli ${err.command} --help`;
    io.stderr.write(`dgate-cli: ${err.message}\nRun '${where}' for usage.\n`);
    return 2;
  }
  if (err instanceof AdminWaitTimeoutError) {
    io.stderr.write(`dgate-cli: --wait-all: ${err.message}\n`);
    return 1;
  }
  if (err instanceof AdminApiError || err instanceof AdminConnectionError || err instanceof AdminRedirectError) {
    io.stderr.write(`dgate-cli: ${err.message}\n`);
    return 1;
  }
  if (err instanceof CommandError) {
    io.stderr.write(`dgate-cli: ${err.message}\n`);
    return 1;
  }
  io.stderr.write(`dgate-cli: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

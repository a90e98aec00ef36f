/**
 * The command line of dgate-server. Only what the usage text lists is understood; anything
 * else (an unknown or misspelt flag, a flag without its value, a stray argument) is a usage
 * error, so that a typo never starts the gateway on the defaults.
 */

export const SERVER_USAGE = `Usage: dgate-server [--config FILE] [--runtime auto|node|bun]

Options:
  -c, --config FILE   config file (YAML or JSON); also DG_CONFIG_PATH, else ./config.dgate.{yml,yaml,json}
  --runtime NAME      run on bun or node (default: the config key runtime, else bun when installed)
  -v, --version       print the version
  -h, --help          print this help
`;

export type ServerArguments =
  | { readonly action: 'help' }
  | { readonly action: 'version' }
  | { readonly action: 'start'; readonly config: string | null; readonly runtime: RuntimeArgument | null }
  | { readonly action: 'usage-error'; readonly message: string };

/** `--runtime`: auto (Bun when installed), node or bun. */
export type RuntimeArgument = 'auto' | 'node' | 'bun';
const RUNTIMES: readonly RuntimeArgument[] = ['auto', 'node', 'bun'];

/** Reads argv (without node and the script). `--config` may repeat: the last one wins. */
export function parseServerArguments(argv: readonly string[]): ServerArguments {
  let config: string | null = null;
  let runtime: RuntimeArgument | null = null;
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') help = true;
    else if (arg === '-v' || arg === '--version') version = true;
    else if (arg === '-c' || arg === '--config') {
      const value = argv[i + 1];
      if (value === undefined || value === '' || value.startsWith('-')) return usageError(`${arg} needs a file path`);
      config = value;
      i++;
    } else if (arg.startsWith('--config=') || arg.startsWith('-c=')) {
      const value = arg.slice(arg.indexOf('=') + 1);
      if (value === '') return usageError(`${arg.slice(0, arg.indexOf('='))} needs a file path`);
      config = value;
    } else if (arg === '--runtime' || arg.startsWith('--runtime=')) {
      const value = arg === '--runtime' ? argv[++i] : arg.slice('--runtime='.length);
      if (value === undefined || !RUNTIMES.includes(value as RuntimeArgument)) {
        return usageError(`--runtime: expected one of ${RUNTIMES.join(', ')}, got ${JSON.stringify(value ?? '')}`);
      }
      runtime = value as RuntimeArgument;
    } else if (arg.startsWith('-')) {
      return usageError(`unknown flag ${arg.split('=')[0]}`);
    } else {
      return usageError(`unexpected argument ${JSON.stringify(arg)}`);
    }
  }
  if (help) return { action: 'help' };
  if (version) return { action: 'version' };
  return { action: 'start', config, runtime };
}

function usageError(message: string): ServerArguments {
  return { action: 'usage-error', message };
}

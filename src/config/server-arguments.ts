/**
 * The command line of dgate-server. Only what the usage text lists is understood; anything
 * else (an unknown or misspelt flag, a flag without its value, a stray argument) is a usage
 * error, so that a typo never starts the gateway on the defaults.
 */

export const SERVER_USAGE = `Usage: dgate-server [--config FILE]

Options:
  -c, --config FILE   config file (YAML or JSON); also DG_CONFIG_PATH, else ./config.dgate.{yml,yaml,json}
  -v, --version       print the version
  -h, --help          print this help
`;

export type ServerArguments =
  | { readonly action: 'help' }
  | { readonly action: 'version' }
  | { readonly action: 'start'; readonly config: string | null }
  | { readonly action: 'usage-error'; readonly message: string };

/** Reads argv (without node and the script). `--config` may repeat: the last one wins. */
export function parseServerArguments(argv: readonly string[]): ServerArguments {
  let config: string | null = null;
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
    } else if (arg.startsWith('-')) {
      return usageError(`unknown flag ${arg.split('=')[0]}`);
    } else {
      return usageError(`unexpected argument ${JSON.stringify(arg)}`);
    }
  }
  if (help) return { action: 'help' };
  if (version) return { action: 'version' };
  return { action: 'start', config };
}

function usageError(message: string): ServerArguments {
  return { action: 'usage-error', message };
}

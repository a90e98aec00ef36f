import { UsageError } from '../usage-error.js';

/**
 * The flags of a command that takes only flags (apply, export): `--name value`, `--name=value`,
 * `-x value`, and switches. Anything else is a usage error naming it.
 */
export function parseCommandFlags(
  args: readonly string[],
  command: string,
  spec: { values: Readonly<Record<string, string>>; switches: readonly string[] },
): { values: Record<string, string>; switches: Set<string> } {
  const values: Record<string, string> = {};
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const name = spec.values[flag];
    if (name !== undefined) {
      const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined || value === '') throw new UsageError(`flag ${flag} needs a value`, command);
      values[name] = value;
    } else if (spec.switches.includes(arg)) {
      switches.add(arg);
    } else {
      throw new UsageError(arg.startsWith('-') ? `unknown flag for ${command}: ${arg}` : `unexpected argument "${arg}"`, command);
    }
  }
  return { values, switches };
}

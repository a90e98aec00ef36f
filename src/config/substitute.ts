/**
 * Environment substitution in config values, as DGate does it:
 *   ${VAR}          → the variable's value, or "" when unset
 *   ${VAR:-default} → the variable's value when set and non-empty, else `default`
 *                     (the default runs up to the first "}", so it cannot contain one)
 * `$VAR` (no braces) is left as is.
 *
 * Not supported: DGate's `$(command)` shell substitution. A value containing `$(` is kept
 * verbatim, `${...}` included (no command is ever run), so such a config either fails type
 * checking or carries the literal text. Put the command's output in an environment variable
 * instead.
 *
 * Only values are substituted, never keys. Note that inline module `payload` text is a value
 * too, so a JavaScript template literal like `${name}` inside it gets substituted; use
 * `payload_file` for module source (file contents are read after substitution, untouched).
 */

const ENV_REF = /\$\{([A-Za-z0-9_]+)(:-([^}]*))?\}/g;

/** Substitutes every `${VAR}` / `${VAR:-default}` in one string. */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv): string {
  if (text.includes('$(')) return text;
  return text.replace(ENV_REF, (_all, name: string, hasDefault: string | undefined, fallback: string | undefined) => {
    const value = env[name];
    if (hasDefault !== undefined) return value !== undefined && value !== '' ? value : (fallback ?? '');
    return value ?? '';
  });
}

/**
 * A copy of a parsed config tree with every string value and list item substituted.
 * Map keys are kept as they are.
 */
export function substituteTree(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') return substituteEnv(value, env);
  if (Array.isArray(value)) return value.map((item) => substituteTree(item, env));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteTree(item, env);
    return out;
  }
  return value;
}

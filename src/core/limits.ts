/**
 * Input limits, in one place (README "Limits"). Everything the gateway reads from outside —
 * admin request bodies (resources, collection schemas, documents), the config file and the
 * files given to `dgate-cli apply -f` — is refused when it is larger or nested deeper than
 * this, with a message naming the field, before any code that recurses over it runs.
 */

/** Deepest nesting of objects and arrays in a JSON/YAML value (the top level is depth 1). */
export const MAX_NESTING_DEPTH = 64;

/** Largest admin request body, in bytes (larger: 413). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Largest config file or declarative (`apply -f`) file, in bytes. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Most values (object keys plus list items, at any depth) in a collection's JSON Schema: the
 * schema compiler recurses over wide schemas too (about 8,000 values overflow its stack).
 */
export const MAX_SCHEMA_NODES = 2000;

/** Largest module source (after base64 decoding), in bytes. */
export const MAX_MODULE_SOURCE_BYTES = 2 * 1024 * 1024;

/**
 * Where `value` nests deeper than `max` levels: the path of the first container past the
 * limit (`schema.not.not…` shortened to its first segment and the depth), or null when it fits.
 * Iterative, so that the check itself cannot overflow the stack.
 */
export function tooDeep(value: unknown, max: number = MAX_NESTING_DEPTH): { field: string } | null {
  const stack: Array<{ value: unknown; depth: number; field: string }> = [{ value, depth: 1, field: '' }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.value === null || typeof top.value !== 'object') continue;
    if (top.depth > max) return { field: top.field };
    const isArray = Array.isArray(top.value);
    for (const [key, child] of Object.entries(top.value as Record<string, unknown>)) {
      if (child === null || typeof child !== 'object') continue;
      const field = top.field === '' ? (isArray ? `[${key}]` : key) : top.field;
      stack.push({ value: child, depth: top.depth + 1, field });
    }
  }
  return null;
}

/** The message for a value nested too deep: `nested deeper than 64 levels`. */
export function tooDeepProblem(max: number = MAX_NESTING_DEPTH): string {
  return `nested deeper than ${max} levels`;
}

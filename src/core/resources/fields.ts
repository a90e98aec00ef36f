import { Errors, invalidField } from '../errors.js';
import { checkName } from '../names.js';

/**
 * Readers for the fields of an admin request body. Each one validates a single field and
 * throws a 400 whose message starts with the field's name (`urls[1]: …`), so the caller
 * learns exactly what to fix. `null` counts as absent for optional fields.
 */

/** What the caller fills in when the body leaves it out. */
export interface ParseDefaults {
  /** namespace used when the body has none; undefined = the body must name one */
  namespace?: string;
}

export type Body = Record<string, unknown>;

/** The body as an object with only `allowed` keys; an unknown key (often a typo) is refused by name. */
export function readBody(input: unknown, allowed: readonly string[]): Body {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw Errors.VALIDATION('body: must be a JSON object');
  }
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) throw invalidField(key, 'unknown field');
  }
  return input as Body;
}

export function isAbsent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

export function requiredName(body: Body, field: string): string {
  return checkName(field, body[field]);
}

/** An optional reference by name; "" is read as absent, as Go clients send it for "none". */
export function optionalName(body: Body, field: string): string | undefined {
  const v = body[field];
  if (isAbsent(v) || v === '') return undefined;
  return checkName(field, v);
}

/** The namespace an item lives in: from the body, else the default, else 400 `namespace is required`. */
export function namespaceOf(body: Body, defaults: ParseDefaults): string {
  const v = body.namespace;
  if (isAbsent(v) || v === '') {
    if (defaults.namespace === undefined) throw Errors.NAMESPACE_REQUIRED();
    return defaults.namespace;
  }
  return checkName('namespace', v);
}

export function optionalString(body: Body, field: string): string | undefined {
  const v = body[field];
  if (isAbsent(v)) return undefined;
  if (typeof v !== 'string') throw invalidField(field, 'must be a string');
  return v;
}

export function requiredString(body: Body, field: string): string {
  const v = body[field];
  if (isAbsent(v) || v === '') throw invalidField(field, 'is required');
  if (typeof v !== 'string') throw invalidField(field, 'must be a string');
  return v;
}

export function bool(body: Body, field: string): boolean {
  const v = body[field];
  if (isAbsent(v)) return false;
  if (typeof v !== 'boolean') throw invalidField(field, 'must be true or false');
  return v;
}

export function integer(body: Body, field: string, min: number, max: number, fallback: number): number {
  const v = body[field];
  if (isAbsent(v)) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidField(field, `must be an integer between ${min} and ${max}`);
  }
  return v;
}

/** A required, non-empty array of strings (each checked by `each`, which may normalise it). */
export function stringList(body: Body, field: string, each: (value: string, field: string) => string = (v) => v): string[] {
  const v = body[field];
  if (isAbsent(v)) throw invalidField(field, 'is required');
  if (!Array.isArray(v) || v.length === 0) throw invalidField(field, 'must be a non-empty array of strings');
  return v.map((item, i) => {
    if (typeof item !== 'string') throw invalidField(`${field}[${i}]`, 'must be a string');
    return each(item, `${field}[${i}]`);
  });
}

/** Free-text labels; absent or empty → undefined (omitted from the stored item). */
export function tags(body: Body): string[] | undefined {
  const v = body.tags;
  if (isAbsent(v)) return undefined;
  if (!Array.isArray(v)) throw invalidField('tags', 'must be an array of strings');
  v.forEach((t, i) => {
    if (typeof t !== 'string') throw invalidField(`tags[${i}]`, 'must be a string');
  });
  return v.length === 0 ? undefined : [...(v as string[])];
}

/** Copies `item` without its undefined properties, so stored items and outputs have no `undefined` holes. */
export function compact<T extends object>(item: T): T {
  const out = {} as Record<string, unknown>;
  for (const [k, v] of Object.entries(item)) if (v !== undefined) out[k] = v;
  return out as T;
}

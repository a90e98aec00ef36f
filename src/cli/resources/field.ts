import type { Kind } from '../../client/types.js';

/**
 * How a field is typed on the command line and in declarative files:
 *   string    text as given
 *   strings   a list; on the command line `a,b,c`
 *   integer   `10` becomes a number
 *   boolean   `true` / `false`
 *   duration  a Go duration string ("50ms") or integer nanoseconds; answered as nanoseconds
 *   json      any JSON value (use `key:=<json>`)
 *   base64    text sent base64-encoded; `key@=file` encodes the file for you
 */
export type FieldType = 'string' | 'strings' | 'integer' | 'boolean' | 'duration' | 'json' | 'base64';

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  /** `create` refuses to run without it (so does the server) */
  readonly required?: boolean;
  /**
   * What the server stores when the field is left out. Used to compare a declarative file with
   * stored items; fields without a default are simply left out of the stored item when absent.
   */
  readonly default?: unknown;
  /** the closed set of accepted values */
  readonly values?: readonly string[];
  /** how the server rewrites a value it accepts (so that comparing does not see a change) */
  readonly canonical?: (value: unknown) => unknown;
  readonly about: string;
}

/** A kind as the CLI knows it: names on the command line, its fields, and its section in declarative files. */
export interface ResourceSpec {
  readonly kind: Kind;
  /** the short name accepted on the command line ("ns", "rt"…) */
  readonly alias: string;
  /** the key of its list in declarative files ("namespaces") */
  readonly section: string;
  readonly about: string;
  /** every field, in the order declarative files write them */
  readonly fields: readonly FieldSpec[];
}

export const NAME_FIELD: FieldSpec = { name: 'name', type: 'string', required: true, about: 'the name (1-128 characters, no "/" or whitespace)' };
export const NAMESPACE_FIELD: FieldSpec = { name: 'namespace', type: 'string', about: "the namespace (default: the server's default namespace)" };
export const TAGS_FIELD: FieldSpec = { name: 'tags', type: 'strings', about: 'free-text labels' };

export function fieldOf(spec: ResourceSpec, name: string): FieldSpec | undefined {
  return spec.fields.find((f) => f.name === name);
}

export function typeLabel(field: FieldSpec): string {
  if (field.values !== undefined) return field.values.join('|');
  switch (field.type) {
    case 'strings':
      return 'list (a,b,c)';
    case 'json':
      return 'JSON (key:=…)';
    case 'base64':
      return 'base64 (key@=file)';
    case 'duration':
      return 'duration (50ms, 1.5s)';
    default:
      return field.type;
  }
}

import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { invalidField } from '../errors.js';
import { MAX_NESTING_DEPTH, MAX_SCHEMA_NODES, tooDeep, tooDeepProblem } from '../limits.js';
import type { Collection } from '../types.js';
import type { Body, ParseDefaults } from './fields.js';
import { compact, isAbsent, namespaceOf, readBody, requiredName, tags } from './fields.js';

const FIELDS = ['name', 'namespace', 'schema', 'visibility', 'type', 'tags'] as const;
const VISIBILITIES: readonly Collection['visibility'][] = ['public', 'private'];
const TYPES: readonly Collection['type'][] = ['document', 'fetcher'];

/**
 * A set of documents whose `data` must satisfy `schema` (a JSON Schema; `{}` accepts anything).
 * A `private` collection's documents are hidden from admin reads (modules still see them).
 */
export function parseCollection(input: unknown, defaults: ParseDefaults): Collection {
  const body = readBody(input, FIELDS);
  return compact({
    name: requiredName(body, 'name'),
    namespace: namespaceOf(body, defaults),
    schema: schema(body),
    visibility: oneOf(body, 'visibility', VISIBILITIES),
    type: oneOf(body, 'type', TYPES),
    tags: tags(body),
  });
}

function schema(body: Body): Record<string, unknown> {
  const v = body.schema;
  if (isAbsent(v)) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidField('schema', 'must be a JSON object');
  const deep = tooDeep(v, MAX_NESTING_DEPTH - 1);
  if (deep !== null) throw invalidField('schema', tooDeepProblem());
  if (countNodes(v, MAX_SCHEMA_NODES) > MAX_SCHEMA_NODES) throw invalidField('schema', `more than ${MAX_SCHEMA_NODES} values (keys and list items)`);
  const compiled = compileSchema(v as Record<string, unknown>);
  if (typeof compiled === 'string') throw invalidField('schema', compiled);
  return v as Record<string, unknown>;
}

/** Values (object keys and list items) in `value`, counting stops past `max`. Iterative. */
function countNodes(value: object, max: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= max) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    for (const child of Object.values(v)) {
      count++;
      stack.push(child);
    }
  }
  return count;
}

/** One of `allowed`; absent → the first. */
function oneOf<T extends string>(body: Body, field: string, allowed: readonly T[]): T {
  const v = body[field];
  if (isAbsent(v)) return allowed[0]!;
  if (!allowed.includes(v as T)) throw invalidField(field, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  return v as T;
}

// Compiled validators, cached by schema text: a schema is compiled once when its collection is
// written, not for every document. Schema texts come from users, so the cache is bounded: the least
// recently used entry is evicted, and removed from ajv's own cache too.
const CACHE_LIMIT = 256;
const cache = new Map<string, { schema: object; result: ValidateFunction | string }>();
// strict off: unknown keywords and formats are ignored rather than refused. addUsedSchema off:
// two collections may use the same `$id` with different schemas.
const ajv = new Ajv({ strict: false, logger: false, validateFormats: false, addUsedSchema: false });

/**
 * The validator for a JSON Schema, or the reason it does not compile (ajv's message).
 * `$async` schemas are refused: validation must stay synchronous.
 */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction | string {
  const text = JSON.stringify(schema);
  const hit = cache.get(text);
  if (hit !== undefined) {
    cache.delete(text);
    cache.set(text, hit);
    return hit.result;
  }
  // compile a private copy: ajv keys its own cache by the object it was given
  const copy = JSON.parse(text) as object;
  let result: ValidateFunction | string;
  try {
    const fn = ajv.compile(copy);
    result = (fn as { $async?: boolean }).$async === true ? 'async schemas are not supported' : fn;
  } catch (err) {
    result = (err as Error).message;
  }
  if (cache.size >= CACHE_LIMIT) {
    const [oldest, entry] = cache.entries().next().value!;
    cache.delete(oldest);
    ajv.removeSchema(entry.schema);
  }
  cache.set(text, { schema: copy, result });
  return result;
}

/** null when `data` satisfies the schema, else the first failure as `data/<path>: <message>`. */
export function schemaViolation(schema: Record<string, unknown>, data: unknown): string | null {
  const validate = compileSchema(schema);
  if (typeof validate === 'string') return `schema: ${validate}`;
  if (validate(data)) return null;
  const e = validate.errors?.[0];
  if (e === undefined) return 'data: does not match the schema';
  const extra = typeof e.params?.additionalProperty === 'string' ? ` (${e.params.additionalProperty})` : '';
  return `data${e.instancePath}: ${e.message ?? 'is invalid'}${extra}`;
}

import { invalidField } from '../errors.js';
import { checkName } from '../names.js';
import type { Route } from '../types.js';
import { HTTP_METHODS } from '../types.js';
import type { Body, ParseDefaults } from './fields.js';
import { bool, compact, integer, isAbsent, namespaceOf, optionalName, readBody, requiredName, stringList, tags } from './fields.js';

const FIELDS = ['name', 'namespace', 'paths', 'methods', 'preserveHost', 'stripPath', 'maxBodyBytes', 'service', 'modules', 'tags'] as const;
const METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);

/**
 * Maps paths and methods to a service and/or modules. Only the leading "/" of each path is
 * checked here; the router checks the full pattern syntax when the write is validated.
 */
export function parseRoute(input: unknown, defaults: ParseDefaults): Route {
  const body = readBody(input, FIELDS);
  return compact({
    name: requiredName(body, 'name'),
    namespace: namespaceOf(body, defaults),
    paths: stringList(body, 'paths', (p, field) => {
      if (!p.startsWith('/')) throw invalidField(field, 'must begin with "/"');
      return p;
    }),
    methods: methods(body),
    preserveHost: bool(body, 'preserveHost'),
    stripPath: bool(body, 'stripPath'),
    maxBodyBytes: isAbsent(body.maxBodyBytes) ? undefined : integer(body, 'maxBodyBytes', 0, Number.MAX_SAFE_INTEGER, 0),
    service: optionalName(body, 'service'),
    modules: modules(body),
    tags: tags(body),
  });
}

/** Upper-cased, duplicates dropped; `["*"]` alone means every method. */
function methods(body: Body): string[] {
  const list = stringList(body, 'methods', (m, field) => {
    const upper = m.toUpperCase();
    if (upper !== '*' && !METHODS.has(upper)) throw invalidField(field, `unsupported method: ${m}`);
    return upper;
  });
  if (list.includes('*') && list.some((m) => m !== '*')) throw invalidField('methods', '"*" cannot be combined with other methods');
  return [...new Set(list)];
}

/** Module names in the order given (the order they run in); a repeated name is refused. */
function modules(body: Body): string[] | undefined {
  const v = body.modules;
  if (isAbsent(v)) return undefined;
  if (!Array.isArray(v)) throw invalidField('modules', 'must be an array of module names');
  const seen = new Set<string>();
  v.forEach((m, i) => {
    const name = checkName(`modules[${i}]`, m);
    if (seen.has(name)) throw invalidField(`modules[${i}]`, `duplicate module: ${name}`);
    seen.add(name);
  });
  return v.length === 0 ? undefined : [...(v as string[])];
}

import { invalidField } from '../errors.js';
import type { Domain } from '../types.js';
import type { ParseDefaults } from './fields.js';
import { compact, integer, namespaceOf, optionalString, readBody, requiredName, stringList, tags } from './fields.js';

const FIELDS = ['name', 'namespace', 'patterns', 'priority', 'cert', 'key', 'tags'] as const;

/**
 * Sends requests whose Host matches one of `patterns` to the domain's namespace; higher
 * `priority` is tried first. `cert`/`key` (PEM) serve TLS for those hosts and come as a pair.
 */
export function parseDomain(input: unknown, defaults: ParseDefaults): Domain {
  const body = readBody(input, FIELDS);
  // "" is how Go clients say "no certificate"
  const cert = optionalString(body, 'cert') || undefined;
  const key = optionalString(body, 'key') || undefined;
  if ((cert === undefined) !== (key === undefined)) throw invalidField(cert === undefined ? 'cert' : 'key', 'cert and key must be given together');
  return compact({
    name: requiredName(body, 'name'),
    namespace: namespaceOf(body, defaults),
    patterns: stringList(body, 'patterns', hostPattern),
    priority: integer(body, 'priority', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 0),
    cert,
    key,
    tags: tags(body),
  });
}

/** Whether a pattern is a `/regex/` (anything else is a `*` glob or an exact host). */
export function isRegexPattern(pattern: string): boolean {
  return pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/');
}

function hostPattern(pattern: string, field: string): string {
  if (pattern === '') throw invalidField(field, 'must not be empty');
  if (isRegexPattern(pattern)) {
    try {
      new RegExp(pattern.slice(1, -1));
    } catch (err) {
      throw invalidField(field, `invalid regular expression: ${(err as Error).message}`);
    }
  }
  return pattern;
}

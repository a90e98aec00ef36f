import type { Namespace } from '../types.js';
import { compact, readBody, requiredName, tags } from './fields.js';

const FIELDS = ['name', 'tags'] as const;

/** A namespace groups every other kind; its name is its identity. */
export function parseNamespace(input: unknown): Namespace {
  const body = readBody(input, FIELDS);
  return compact({ name: requiredName(body, 'name'), tags: tags(body) });
}

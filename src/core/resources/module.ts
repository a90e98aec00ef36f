import { invalidField } from '../errors.js';
import { MAX_MODULE_SOURCE_BYTES } from '../limits.js';
import type { Module, ModuleType } from '../types.js';
import type { Body, ParseDefaults } from './fields.js';
import { compact, isAbsent, namespaceOf, readBody, requiredName, requiredString, tags } from './fields.js';

const FIELDS = ['name', 'namespace', 'payload', 'moduleType', 'tags'] as const;
const MODULE_TYPES: readonly ModuleType[] = ['typescript', 'javascript'];
// A flat character-class loop plus a length check: a repeated group would recurse per 4 characters
// in the regex engine and overflow the stack on a payload of a few megabytes.
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * User code run by the proxy. `payload` is the source as standard padded base64 (line breaks
 * ignored, as DGate does); it is stored without them and must decode to UTF-8 text. Compiling the
 * code is left to the module loader at write time.
 */
export function parseModule(input: unknown, defaults: ParseDefaults): Module {
  const body = readBody(input, FIELDS);
  return compact({
    name: requiredName(body, 'name'),
    namespace: namespaceOf(body, defaults),
    payload: payload(body),
    moduleType: moduleType(body),
    tags: tags(body),
  });
}

/** The source text of a stored module. */
export function moduleSource(module: Module): string {
  return Buffer.from(module.payload, 'base64').toString('utf8');
}

function payload(body: Body): string {
  const b64 = requiredString(body, 'payload').replace(/[\r\n]/g, '');
  if (b64.length % 4 !== 0 || !BASE64_CHARS.test(b64)) throw invalidField('payload', 'must be standard base64 (with padding)');
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length > MAX_MODULE_SOURCE_BYTES) throw invalidField('payload', `source larger than ${MAX_MODULE_SOURCE_BYTES} bytes`);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidField('payload', 'must be the base64 of UTF-8 text');
  }
  return b64;
}

function moduleType(body: Body): ModuleType {
  const v = body.moduleType;
  if (isAbsent(v)) return 'typescript';
  if (!MODULE_TYPES.includes(v as ModuleType)) throw invalidField('moduleType', 'must be "typescript" or "javascript"');
  return v as ModuleType;
}

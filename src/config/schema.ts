/**
 * Checks a parsed (and env-substituted) config tree against the key table (keys.ts) and
 * builds the Config from it. Every error is Errors.CONFIG with a message that starts with the
 * key path in DGate's spelling, e.g. `config: proxy.prot: unknown key`.
 *
 * Coercion: strings are accepted where an integer, boolean or duration is expected when they
 * parse (values often come from `${VAR:-80}`); numbers are accepted where a string is expected.
 * A null value (YAML `key:` with nothing after it) counts as absent, except that a null
 * section is a present, empty section.
 */
import { dirname, resolve } from 'node:path';
import { Errors } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import type { Config, ResourceItem } from './config.js';
import { configError } from './config-error.js';
import { nsToMs, parseDuration } from './duration.js';
import {
  CONFIG_KEYS,
  fieldName,
  type DefaultContext,
  type KeySpec,
  type SectionSpec,
} from './keys.js';
import { inlineDomainFiles } from './domain-files.js';
import { applyListenerRules } from './listener-keys.js';
import { inlinePayloadFiles } from './payload-files.js';

type Tree = Record<string, unknown>;

export interface ValidateContext extends DefaultContext {
  /** Absolute path of the file `raw` came from (payload files are relative to its directory), or null. */
  readonly file: string | null;
}

/**
 * Validates `raw` (the file's top level, already env-substituted) and returns the frozen Config.
 */
export function validateConfig(raw: unknown, ctx: ValidateContext): Config {
  if (raw === undefined || raw === null) raw = {};
  if (!isMap(raw)) throw Errors.CONFIG(`expected a map of keys at the top level, got ${describe(raw)}`);
  const tree = readSection(CONFIG_KEYS, raw, '', ctx) as Tree;
  applyCrossKeyRules(tree, raw, ctx);
  const init = (tree['proxy'] as Tree)['initResources'] as Tree;
  init['modules'] = inlinePayloadFiles(init['modules'] as ResourceItem[], ctx.file ? dirname(ctx.file) : ctx.cwd);
  init['domains'] = inlineDomainFiles(init['domains'] as ResourceItem[], ctx.file ? dirname(ctx.file) : ctx.cwd);
  tree['file'] = ctx.file;
  return deepFreeze(tree as unknown as Config);
}

function readSection(spec: SectionSpec, raw: unknown, path: string, ctx: DefaultContext): Tree {
  if (raw === undefined || raw === null) raw = {};
  if (!isMap(raw)) throw configError(path, `expected a map of keys, got ${describe(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(spec.keys, key)) throw configError(join(path, key), 'unknown key');
  }
  const out: Tree = {};
  for (const [key, keySpec] of Object.entries(spec.keys)) {
    if (keySpec.kind === 'ignored') continue;
    const value = readValue(keySpec, raw[key], join(path, key), ctx);
    if (keySpec.kind !== 'unsupported') out[fieldName(key, keySpec)] = value;
  }
  return out;
}

function readValue(spec: KeySpec, value: unknown, path: string, ctx: DefaultContext): unknown {
  if (spec.kind === 'unsupported') {
    const refused = spec.refuseAnyValue ? value !== undefined && value !== null : !isEmptyValue(value) && !(spec.accepts?.(value) ?? false);
    if (refused) throw configError(path, spec.message ?? 'not supported yet');
    return undefined;
  }
  if (spec.kind === 'section') {
    if (value === undefined && spec.optional) return null;
    return readSection(spec, value, path, ctx);
  }
  if (value === undefined || value === null) {
    if (spec.required) throw configError(path, 'required');
    return defaultOf(spec, ctx);
  }
  switch (spec.kind) {
    case 'string': {
      const s = toStringValue(value);
      if (s === null) throw configError(path, `expected a string, got ${describe(value)}`);
      if (spec.unsupportedValues?.includes(s)) throw configError(path, `${JSON.stringify(s)} is not supported yet`);
      if (spec.enum && !spec.enum.includes(s)) {
        throw configError(path, `expected one of ${spec.enum.join(', ')}, got ${describe(value)}`);
      }
      if (spec.nonEmpty && s === '') throw configError(path, 'must not be empty');
      return s;
    }
    case 'int': {
      const n = toInteger(value);
      if (n === null || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw configError(path, `expected ${intRange(spec.min, spec.max)}, got ${describe(value)}`);
      }
      return n;
    }
    case 'number': {
      const n = toNumber(value);
      if (n === null || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw configError(path, `expected ${numberRange(spec.min, spec.max)}, got ${describe(value)}`);
      }
      return n;
    }
    case 'bool': {
      const b = toBoolean(value);
      if (b === null) throw configError(path, `expected true or false, got ${describe(value)}`);
      return b;
    }
    case 'duration': {
      const ns = toDurationNs(value);
      if (ns === null) {
        throw configError(path, `expected a duration such as "500ms", "1.5s", "1h30m" or integer nanoseconds, got ${describe(value)}`);
      }
      return nsToMs(ns);
    }
    case 'stringList': {
      const list = asList(value, path, 'a list of strings');
      return list.map((item, i) => {
        const s = toStringValue(item);
        if (s === null) throw configError(`${path}[${i}]`, `expected a string, got ${describe(item)}`);
        const problem = spec.itemCheck?.(s);
        if (problem) throw configError(`${path}[${i}]`, problem);
        return s;
      });
    }
    case 'stringMap': {
      if (!isMap(value)) throw configError(path, `expected a map of strings, got ${describe(value)}`);
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(value)) {
        const s = toStringValue(v);
        if (s === null) throw configError(`${path}.${k}`, `expected a string, got ${describe(v)}`);
        out[k] = s;
      }
      return out;
    }
    case 'objectList': {
      const list = asList(value, path, 'a list of maps');
      return list.map((item, i) => {
        if (!isMap(item)) throw configError(`${path}[${i}]`, `expected a map, got ${describe(item)}`);
        return { ...item };
      });
    }
    case 'sectionList': {
      const list = asList(value, path, 'a list of maps');
      const section: SectionSpec = { kind: 'section', doc: spec.doc, keys: spec.keys };
      return list.map((item, i) => readSection(section, item, `${path}[${i}]`, ctx));
    }
    case 'ignored':
      return undefined;
  }
}

function defaultOf(spec: KeySpec, ctx: DefaultContext): unknown {
  switch (spec.kind) {
    case 'string':
    case 'int': {
      const d = spec.default;
      return typeof d === 'function' ? d(ctx) : d;
    }
    case 'number':
    case 'bool':
    case 'duration':
      return spec.default;
    case 'stringList':
    case 'objectList':
    case 'sectionList':
      return [];
    case 'stringMap':
      return {};
    default:
      return undefined;
  }
}

/** Rules that involve more than one key, or the working directory. */
function applyCrossKeyRules(tree: Tree, raw: Tree, ctx: DefaultContext): void {
  const storage = tree['storage'] as Tree;
  storage['dir'] = resolve(ctx.cwd, storage['dir'] as string);
  applyStorageRules(storage, isMap(raw['storage']) ? raw['storage'] : {}, ctx);

  const proxy = tree['proxy'] as Tree;
  proxy['consoleLogLevel'] ??= tree['logLevel'];
  const accessLog = proxy['accessLog'] as Tree;
  if (accessLog['file'] !== null) accessLog['file'] = resolve(ctx.cwd, accessLog['file'] as string);
  applyListenerRules(proxy);
  if (proxy['enableH2c'] === true && proxy['enableHttp2'] !== true) throw configError('proxy.enable_h2c', 'requires proxy.enable_http2: true');

  const admin = tree['admin'] as Tree;
  applyListenerTlsRules(proxy['tls'] as Tree | null, proxy['port'] as number, 'proxy', ctx);
  applyListenerTlsRules(admin['tls'] as Tree | null, admin['port'] as number, 'admin', ctx);
  const basicAuth = admin['basicAuth'] as { users: unknown[] };
  const keyAuth = admin['keyAuth'] as { keys: unknown[] };
  if (admin['authMethod'] === 'basic' && basicAuth.users.length === 0) {
    throw configError('admin.basic_auth.users', 'at least one user is required when admin.auth_method is basic');
  }
  if (admin['authMethod'] === 'key' && keyAuth.keys.length === 0) {
    throw configError('admin.key_auth.keys', 'at least one key is required when admin.auth_method is key');
  }
  const advertise = admin['advertiseAddress'] as string | null;
  if (advertise !== null && !/^https?:\/\/[^/]/i.test(advertise)) {
    throw configError('admin.advertise_address', `expected an http:// or https:// URL, got ${describe(advertise)}`);
  }
  const rawKeyAuth = isMap(raw['admin']) ? raw['admin']['key_auth'] : undefined;
  if (isMap(rawKeyAuth) && rawKeyAuth['header_name'] != null && rawKeyAuth['query_param_name'] != null) {
    throw configError('admin.key_auth', 'set header_name or query_param_name, not both');
  }
}

/** proxy.tls / admin.tls: files go in pairs and resolve against the working directory; some certificate must exist. */
function applyListenerTlsRules(tls: Tree | null, plainPort: number, section: string, ctx: DefaultContext): void {
  if (tls === null) return;
  const path = `${section}.tls`;
  if (tls['port'] !== 0 && tls['port'] === plainPort) throw configError(`${path}.port`, `must differ from ${section}.port (both are ${plainPort})`);
  if ((tls['certFile'] === null) !== (tls['keyFile'] === null)) {
    throw configError(`${path}.${tls['certFile'] === null ? 'cert_file' : 'key_file'}`, 'cert_file and key_file go together');
  }
  if (tls['certFile'] === null && tls['autoGenerate'] !== true) {
    throw configError(path, 'set cert_file and key_file, or auto_generate: true for a self-signed certificate');
  }
  for (const key of ['certFile', 'keyFile'] as const) {
    if (tls[key] !== null) tls[key] = resolve(ctx.cwd, tls[key] as string);
  }
}

/** keys of the storage section that only an etcd store reads */
const ETCD_ONLY_KEYS = ['endpoints', 'prefix', 'username', 'password', 'tls', 'dial_timeout', 'request_timeout'] as const;

function applyStorageRules(storage: Tree, raw: Tree, ctx: DefaultContext): void {
  if (storage['type'] !== 'etcd') {
    for (const key of ETCD_ONLY_KEYS) {
      if (raw[key] !== undefined && raw[key] !== null) {
        throw configError(`storage.${key}`, `only applies to storage.type etcd (storage.type is ${String(storage['type'])})`);
      }
    }
    return;
  }
  if ((storage['endpoints'] as unknown[]).length === 0) throw configError('storage.endpoints', 'at least one endpoint is required when storage.type is etcd');
  if (storage['password'] !== null && storage['username'] === null) throw configError('storage.password', 'set storage.username too');
  for (const key of ['dialTimeoutMs', 'requestTimeoutMs'] as const) {
    if (!((storage[key] as number) > 0)) throw configError(`storage.${key === 'dialTimeoutMs' ? 'dial_timeout' : 'request_timeout'}`, 'must be greater than 0');
  }
  const tls = storage['tls'] as Tree | null;
  if (tls !== null) {
    if ((tls['certFile'] === null) !== (tls['keyFile'] === null)) {
      throw configError(tls['certFile'] === null ? 'storage.tls.cert_file' : 'storage.tls.key_file', 'cert_file and key_file go together');
    }
    for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
      if (tls[key] !== null) tls[key] = resolve(ctx.cwd, tls[key] as string);
    }
  }
}

// ---- value helpers ----

function isMap(v: unknown): v is Tree {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function asList(value: unknown, path: string, what: string): unknown[] {
  if (!Array.isArray(value)) throw configError(path, `expected ${what}, got ${describe(value)}`);
  return value;
}

function toStringValue(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

function toInteger(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null;
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(v)) return Number(v);
  return null;
}

function toBoolean(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  return null;
}

function toDurationNs(v: unknown): number | null {
  if (typeof v === 'string') {
    const s = v.trim();
    // Digits only: nanoseconds written as a string (e.g. from ${TIMEOUT:-5000000000}).
    return /^\d+$/.test(s) ? parseDuration(Number(s)) : parseDuration(s);
  }
  return typeof v === 'number' ? parseDuration(v) : null;
}

/** Absent, null, false, "", "false", [] or {}: how an unsupported key may appear. */
function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '') return true;
  if (typeof v === 'string') return v.trim().toLowerCase() === 'false';
  if (Array.isArray(v)) return v.length === 0;
  return isMap(v) && Object.keys(v).length === 0;
}

function intRange(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `an integer from ${min} to ${max}`;
  if (min !== undefined) return `an integer >= ${min}`;
  if (max !== undefined) return `an integer <= ${max}`;
  return 'an integer';
}

function numberRange(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `a number from ${min} to ${max}`;
  if (min !== undefined) return `a number >= ${min}`;
  if (max !== undefined) return `a number <= ${max}`;
  return 'a number';
}

/** A short rendering of a bad value for error messages. */
function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a map';
  return String(v);
}

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FieldSpec } from './resources/field.js';
import { UsageError } from './usage-error.js';
import type { VerbContract } from './verbs.js';

/** A command line after the verb, read against what the verb accepts. */
export interface ParsedArguments {
  /** field name → typed value (the positional word, if any, is folded in) */
  values: Record<string, unknown>;
  /** the flags given (e.g. "--all") */
  flags: Set<string>;
}

export interface ArgumentContext {
  /** resource name for messages ("route") */
  resource: string;
  /** the words to show in the --help hint ("route create") */
  command: string;
  /** where `key@=file` names are resolved */
  cwd: string;
}

/**
 * Reads httpie-style arguments (DGate's syntax):
 *   key=value     text; converted for typed fields: lists split on ",", integers, true/false,
 *                 durations stay text ("50ms") unless they are bare nanoseconds
 *   key:=json     a raw JSON value (`priority:=10`, `paths:='["/a","/b"]'`)
 *   key:=@file    a JSON value read from a file
 *   key@=file     a file's text; base64-encoded for base64 fields (a module's payload)
 *   word          the positional name/id, where the verb has one
 * Unknown keys are refused together, then missing required ones, each as a UsageError.
 */
export function parseArguments(args: readonly string[], contract: VerbContract, ctx: ArgumentContext): ParsedArguments {
  const accepted = new Map<string, FieldSpec>([...contract.required, ...contract.optional].map((f) => [f.name, f]));
  const knownFlags = new Set(contract.flags.map((f) => f.flag));
  const values: Record<string, unknown> = {};
  const flags = new Set<string>();
  const unknown: string[] = [];
  let positional: string | undefined;

  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq < 0) {
      if (arg.startsWith('-') && arg.length > 1) {
        if (!knownFlags.has(arg)) throw new UsageError(flagMessage(arg, ctx), ctx.command);
        flags.add(arg);
      } else if (contract.positional === undefined) {
        throw new UsageError(`unexpected argument "${arg}" (fields are given as key=value)`, ctx.command);
      } else if (positional !== undefined) {
        throw new UsageError(`more than one ${contract.positional.name} given: "${positional}" and "${arg}"`, ctx.command);
      } else {
        positional = arg;
      }
      continue;
    }
    const { key, form } = splitKey(arg.slice(0, eq));
    const raw = arg.slice(eq + 1);
    const field = accepted.get(key);
    if (field === undefined) {
      unknown.push(key);
      continue;
    }
    if (Object.hasOwn(values, key)) throw new UsageError(`field ${key} is given twice`, ctx.command);
    values[key] = convert(field, form, raw, ctx);
  }

  if (unknown.length > 0) throw new UsageError(`unknown field(s) for ${ctx.resource}: ${unknown.join(', ')}`, ctx.command);
  if (positional !== undefined) {
    const name = contract.positional!.name;
    if (Object.hasOwn(values, name) && values[name] !== positional) {
      throw new UsageError(`${name} given twice: "${positional}" and ${name}=${String(values[name])}`, ctx.command);
    }
    values[name] = positional;
  }
  return { values, flags };
}

/** Refuses the run when a required field is missing (`except` are not required this time). */
export function requireFields(parsed: ParsedArguments, contract: VerbContract, ctx: ArgumentContext, except: readonly string[] = []): void {
  const missing = contract.required.map((f) => f.name).filter((n) => !except.includes(n) && !Object.hasOwn(parsed.values, n));
  if (missing.length > 0) throw new UsageError(`missing required field(s) for ${ctx.resource}: ${missing.join(', ')}`, ctx.command);
}

type Form = 'text' | 'json' | 'file';

function splitKey(left: string): { key: string; form: Form } {
  if (left.endsWith(':')) return { key: left.slice(0, -1), form: 'json' };
  if (left.endsWith('@')) return { key: left.slice(0, -1), form: 'file' };
  return { key: left, form: 'text' };
}

function convert(field: FieldSpec, form: Form, raw: string, ctx: ArgumentContext): unknown {
  switch (form) {
    case 'json': {
      const text = raw.startsWith('@') ? readArgumentFile(field, raw.slice(1), ctx) : raw;
      try {
        return JSON.parse(text);
      } catch (err) {
        throw new UsageError(`${field.name}: invalid JSON: ${(err as Error).message}`, ctx.command);
      }
    }
    case 'file': {
      // an empty path means an empty value, as in DGate
      const text = raw === '' ? '' : readArgumentFile(field, raw, ctx);
      return field.type === 'base64' ? Buffer.from(text, 'utf8').toString('base64') : text;
    }
    case 'text':
      return fromText(field, raw, ctx);
  }
}

function fromText(field: FieldSpec, raw: string, ctx: ArgumentContext): unknown {
  switch (field.type) {
    case 'strings':
      return raw === '' ? [] : raw.split(',');
    case 'integer':
      if (!/^[+-]?\d+$/.test(raw)) throw new UsageError(`${field.name}: expected an integer, got "${raw}"`, ctx.command);
      return Number(raw);
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw new UsageError(`${field.name}: expected true or false, got "${raw}"`, ctx.command);
      return raw === 'true';
    case 'duration':
      // bare digits are nanoseconds (DGate's wire form); "50ms" goes as is, the server parses it
      return /^\d+$/.test(raw) ? Number(raw) : raw;
    default:
      return raw;
  }
}

function readArgumentFile(field: FieldSpec, path: string, ctx: ArgumentContext): string {
  const full = resolve(ctx.cwd, path);
  try {
    return readFileSync(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${field.name}: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, ctx.command);
  }
}

function flagMessage(arg: string, ctx: ArgumentContext): string {
  const global = ['-V', '-f', '-a', '--verbose', '--follow', '--auth', '--admin', '--key'];
  if (global.includes(arg) || /^-[Vfav]+$/.test(arg)) {
    return `unknown flag for ${ctx.command}: ${arg} (global flags go before the resource: dgate-cli ${arg} ${ctx.command} …)`;
  }
  return `unknown flag for ${ctx.command}: ${arg}`;
}

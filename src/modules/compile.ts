import { createHash } from 'node:crypto';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { transformSync, type TransformFailure } from 'esbuild';
import { Errors } from '../core/errors.js';
import type { Module } from '../core/types.js';
import { HOOKS } from './hooks.js';

/** A module turned into CommonJS-style code for node:vm, with what is needed to report errors in its own lines. */
export interface CompiledModule {
  readonly namespace: string;
  readonly name: string;
  /** the file name stack traces show: dgate://<namespace>/<name>.<ts|js> */
  readonly filename: string;
  readonly code: string;
  /** DGate's script style: a javascript module without import/export, whose top-level functions are its hooks */
  readonly scriptStyle: boolean;
  readonly sourceMap: SourceMap;
  /** content hash of (type, source) */
  readonly hash: string;
}

export const moduleCompileError = (module: string, message: string) => Errors.MODULE_COMPILE(module, message);

const ESM_SYNTAX = /(^|[\n;])\s*(import\s*[\w{*'"]|export\s)/;

/**
 * After the code of a script-style module: hand out its top-level hooks (DGate's lookup); a
 * top-level name of a hook that is not a function is refused when the module is linked.
 */
const SCRIPT_EXPORTS = `\n;return {${HOOKS.map((h) => `${h}: typeof ${h} !== 'undefined' ? ${h} : undefined`).join(', ')}};`;

/** In ESM modules `require`, `module` and `exports` do not exist (the loader's own use of them is kept). */
const HIDDEN_IN_ESM = { require: 'undefined', module: 'undefined', exports: 'undefined' };

const cache = new Map<string, CompiledModule>();
const CACHE_LIMIT = 1000;

export function sourceOf(module: Module): string {
  return Buffer.from(module.payload, 'base64').toString('utf8');
}

/**
 * Compiles a module (esbuild: TypeScript types stripped, ESM turned into CommonJS). Done when
 * the module is saved and again, from a cache keyed by content, whenever a runtime table is
 * built. A syntax error is a 400 naming the module, line and column.
 */
export function compileModule(module: Module): CompiledModule {
  const source = sourceOf(module);
  const hash = createHash('sha256').update(module.moduleType).update('\0').update(source).digest('hex');
  const key = `${module.namespace}\0${module.name}\0${hash}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const ext = module.moduleType === 'javascript' ? 'js' : 'ts';
  const filename = `dgate://${module.namespace}/${module.name}.${ext}`;
  const scriptStyle = module.moduleType === 'javascript' && !ESM_SYNTAX.test(source);
  let out;
  try {
    out = transformSync(source, {
      loader: ext,
      format: 'cjs',
      target: 'es2022',
      sourcemap: 'external',
      sourcefile: filename,
      logLevel: 'silent',
      ...(scriptStyle ? {} : { define: HIDDEN_IN_ESM }),
    });
  } catch (err) {
    const first = (err as TransformFailure).errors?.[0];
    if (first === undefined) throw moduleCompileError(module.name, String(err));
    const where = first.location === null ? '' : `${first.location.line}:${first.location.column + 1}: `;
    throw moduleCompileError(module.name, `${where}${first.text}`);
  }
  const compiled: CompiledModule = {
    namespace: module.namespace,
    name: module.name,
    filename,
    code: scriptStyle ? out.code + SCRIPT_EXPORTS : out.code,
    scriptStyle,
    sourceMap: new SourceMap(JSON.parse(out.map) as SourceMapPayload),
    hash,
  };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

/** Rewrites the positions of module frames in a stack trace to the module's own source lines. */
export function mapStack(stack: string, modules: ReadonlyMap<string, CompiledModule>): string {
  return stack.replace(/(dgate:\/\/[^\s:()]+):(\d+):(\d+)/g, (whole, file: string, line: string, col: string) => {
    const m = modules.get(file);
    if (m === undefined) return whole;
    const entry = m.sourceMap.findEntry(Number(line) - 1, Number(col) - 1) as { originalLine?: number; originalColumn?: number };
    if (entry.originalLine === undefined) return whole;
    return `${file}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
  });
}

import vm from 'node:vm';
import { Errors, GatewayError } from '../core/errors.js';
import type { Module } from '../core/types.js';
import { BUILTINS } from './api/index.js';
import { compileModule, mapStack, type CompiledModule } from './compile.js';
import { createConsole, createGlobals, kCancelTimers } from './globals.js';
import { HOOKS } from './hooks.js';
import { Realm } from './realm.js';
import type { ModuleHost } from './host.js';

export const moduleLinkError = (message: string) => Errors.MODULE_LINK(message);

/** Marks a link error that already names the source position, so enclosing imports do not add theirs. */
const kPositioned = Symbol('positioned');
type PositionedError = GatewayError & { [kPositioned]?: boolean };
function positioned(err: GatewayError): GatewayError {
  (err as PositionedError)[kPositioned] = true;
  return err;
}

/** Time a module's top-level code may run when it is loaded (not a per-request limit). */
const LOAD_TIMEOUT_MS = 2000;

interface Instance {
  exports: Record<string, unknown>;
}

/**
 * The modules of one namespace, loaded into one node:vm context with the curated globals and
 * the `dgate/*` built-ins. A module is loaded (its top-level code run once) the first time a
 * route or another module needs it; `import './other'` / `import 'other'` resolves to the module
 * of that name in the same namespace. Built when the runtime table is built, never per request;
 * kept across revisions while the namespace's module code is unchanged.
 */
export class ModuleSet {
  readonly namespace: string;
  /** identifies the module code of the namespace: equal keys, equal sets */
  readonly key: string;
  /** some module's code names `console` (its log lines want the route and request of the hook call that runs it) */
  readonly logs: boolean;
  readonly #compiled = new Map<string, CompiledModule>();
  readonly #byFile = new Map<string, CompiledModule>();
  readonly #instances = new Map<string, Instance>();
  readonly #builtins = new Map<string, Record<string, unknown>>();
  readonly #host: ModuleHost;
  #context: vm.Context | null = null;
  #realm: Realm | null = null;

  constructor(namespace: string, modules: readonly Module[], host: ModuleHost) {
    this.namespace = namespace;
    this.#host = host;
    let logs = false;
    for (const m of modules) {
      const c = compileModule(m);
      this.#compiled.set(m.name, c);
      this.#byFile.set(c.filename, c);
      if (c.code.includes('console')) logs = true;
    }
    this.logs = logs;
    this.key = ModuleSet.keyOf(modules);
  }

  static keyOf(modules: readonly Module[]): string {
    return modules.map((m) => `${m.name}:${compileModule(m).hash}`).join(',');
  }

  has(name: string): boolean {
    return this.#compiled.has(name);
  }

  /** Stack trace with module positions mapped back to the modules' own source lines. */
  mapStack(stack: string): string {
    return mapStack(stack, this.#byFile);
  }

  /** The exports of a module, loading it (and what it imports) on first use. Throws a 400 GatewayError on failure. */
  exportsOf(name: string): Record<string, unknown> {
    return this.#load(name, name);
  }

  /** Retires this version of the namespace's modules: their pending timers are cancelled. */
  dispose(): void {
    const cancel = (this.#context as Record<symbol, unknown> | null)?.[kCancelTimers] as (() => void) | undefined;
    cancel?.();
  }

  #context_(): vm.Context {
    if (this.#context === null) {
      this.#context = vm.createContext(createGlobals(this.#host), { name: `dgate modules of ${this.namespace}` });
      this.#realm = new Realm(this.#context);
    }
    return this.#context;
  }

  /** An error of the gateway's as the modules' realm sees it (for errorHandler). */
  realmError(err: unknown): unknown {
    return this.#realm === null ? err : this.#realm.error(err);
  }

  #load(name: string, from: string): Record<string, unknown> {
    const loaded = this.#instances.get(name);
    if (loaded !== undefined) return loaded.exports; // also a module still loading (circular import): CommonJS semantics
    const compiled = this.#compiled.get(name);
    if (compiled === undefined) throw moduleLinkError(`module ${from}: cannot import '${name}': no module of that name in namespace ${this.namespace}`);
    const instance: Instance = { exports: {} };
    this.#instances.set(name, instance);
    const context = this.#context_();
    const require = (spec: string) => this.#require(String(spec), name);
    // The module's own console (its lines name it); an inner function lets module code still declare a `console` of its own.
    context.__dgate_load = { exports: instance.exports, require, module: instance, console: createConsole(this.#host, name) };
    try {
      // Kept on the first line so that line numbers in stack traces stay those of the compiled code.
      const script = new vm.Script(`(function (exports, require, module, console) {return (function () {${compiled.code}\n}).call(this);})(__dgate_load.exports, __dgate_load.require, __dgate_load.module, __dgate_load.console)`, {
        filename: compiled.filename,
      });
      const scriptHooks = script.runInContext(context, { timeout: LOAD_TIMEOUT_MS, displayErrors: false }) as Record<string, unknown> | undefined;
      if (compiled.scriptStyle && scriptHooks !== undefined) {
        for (const hook of HOOKS) if (scriptHooks[hook] !== undefined && instance.exports[hook] === undefined) instance.exports[hook] = scriptHooks[hook];
      }
    } catch (err) {
      this.#instances.delete(name);
      const e = err as Error;
      // Where in this module's own source it failed (the import or throw statement).
      const at = typeof e?.stack === 'string' ? new RegExp(`${compiled.filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`).exec(this.mapStack(e.stack))?.[0] : undefined;
      if (err instanceof GatewayError) {
        if ((err as PositionedError)[kPositioned] === true || at === undefined) throw err;
        throw positioned(moduleLinkError(`${err.message} (at ${at})`));
      }
      throw positioned(moduleLinkError(`module ${name}: loading failed: ${e?.message ?? String(err)}${at ? ` (at ${at})` : ''}`));
    } finally {
      delete context.__dgate_load;
    }
    for (const hook of HOOKS) {
      const v = instance.exports[hook];
      if (v !== undefined && typeof v !== 'function') throw moduleLinkError(`module ${name}: export ${hook} must be a function`);
    }
    return instance.exports;
  }

  #require(spec: string, from: string): Record<string, unknown> {
    const builtin = BUILTINS.find((b) => b.name === spec);
    if (builtin !== undefined) {
      let exports = this.#builtins.get(spec);
      if (exports === undefined) {
        exports = this.#realm!.wrapExports(builtin.create(this.#host));
        this.#builtins.set(spec, exports);
      }
      return exports;
    }
    const name = spec.replace(/^\.\//, '').replace(/\.(ts|js|mjs|cjs)$/, '');
    if (!this.#compiled.has(name) || name.includes('/')) {
      throw moduleLinkError(`module ${from}: cannot import '${spec}': not a dgate/* built-in nor a module of namespace ${this.namespace}`);
    }
    return this.#load(name, from);
  }
}

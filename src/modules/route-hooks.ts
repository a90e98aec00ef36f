import { CHAINED_HOOKS, SINGLE_HOOKS, type HookFn } from './hooks.js';
import { moduleLinkError, type ModuleSet } from './module-set.js';

/**
 * The module functions of one route, linked when the runtime table is built: every module of
 * the route contributes, in the order the route lists them. requestModifier/responseModifier run
 * in that order (a function re-exported by several modules runs once); fetchUpstream,
 * requestHandler and errorHandler come from one function at most.
 */
export interface RouteHooks {
  readonly fetchUpstream: HookFn | null;
  readonly requestModifiers: readonly HookFn[];
  readonly responseModifiers: readonly HookFn[];
  readonly errorHandler: HookFn | null;
  readonly requestHandler: HookFn | null;
  /** the route's module names, in order (for logs) */
  readonly modules: readonly string[];
  readonly set: ModuleSet;
  /** which module (and under which hook name) each function came from: labels of the hook channel */
  readonly origins: ReadonlyMap<HookFn, HookOrigin>;
}

export interface HookOrigin {
  readonly module: string;
  readonly hook: string;
}

export function linkRoute(set: ModuleSet, route: string, modules: readonly string[]): RouteHooks {
  const chained: Record<(typeof CHAINED_HOOKS)[number], HookFn[]> = { requestModifier: [], responseModifier: [] };
  const origins = new Map<HookFn, HookOrigin>();
  const single: Record<(typeof SINGLE_HOOKS)[number], { fn: HookFn; from: string } | null> = { fetchUpstream: null, errorHandler: null, requestHandler: null };
  for (const name of modules) {
    const exports = set.exportsOf(name);
    for (const hook of CHAINED_HOOKS) {
      const fn = exports[hook] as HookFn | undefined;
      if (fn !== undefined && !chained[hook].includes(fn)) {
        chained[hook].push(fn);
        if (!origins.has(fn)) origins.set(fn, { module: name, hook });
      }
    }
    for (const hook of SINGLE_HOOKS) {
      const fn = exports[hook] as HookFn | undefined;
      if (fn === undefined) continue;
      const seen = single[hook];
      if (seen !== null && seen.fn !== fn) {
        throw moduleLinkError(`route ${route}: modules ${seen.from} and ${name} both export a different ${hook}; only one may`);
      }
      single[hook] = { fn, from: seen?.from ?? name };
      if (!origins.has(fn)) origins.set(fn, { module: seen?.from ?? name, hook });
    }
  }
  return {
    fetchUpstream: single.fetchUpstream?.fn ?? null,
    requestModifiers: chained.requestModifier,
    responseModifiers: chained.responseModifier,
    errorHandler: single.errorHandler?.fn ?? null,
    requestHandler: single.requestHandler?.fn ?? null,
    modules,
    set,
    origins,
  };
}

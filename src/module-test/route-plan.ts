import type { Module } from '../core/types.js';
import { State } from '../core/state.js';
import type { ModuleHost } from '../modules/host.js';
import { HOOKS, type Hook } from '../modules/hooks.js';
import { ModuleSet } from '../modules/module-set.js';
import type { StubAnswer } from './stub-upstream.js';

/** Which module exports each hook (route order; the first one for a hook). */
export type ExportedHooks = Partial<Record<Hook, string>>;

/** The upstream a test asks for: a stub answer, a real URL, null (no service) or undefined (not said). */
export type UpstreamChoice = StubAnswer | { url: string } | null | undefined;

export interface RoutePlan {
  /** what the route gets: a stub answer or a URL (a service), or null (no service) */
  upstream: StubAnswer | { url: string } | null;
  /** hooks that cannot run with this choice, and upstream input that is not used */
  notes: string[];
}

/** A host for finding exports: modules' top-level code may read an empty state and its console output is dropped. */
function quietHost(namespace: string): ModuleHost {
  const state = State.empty();
  return {
    namespace,
    state: () => state,
    write: () => Promise.reject(new Error('module top-level code cannot write state')),
    log: () => {},
    fetchTimeoutMs: 30_000,
    cache: new Map(),
  };
}

/**
 * The hooks the modules export, found by loading them as the gateway does. Null when they do not
 * load (the gateway then refuses the route with its own message).
 */
export function exportedHooks(modules: readonly Module[]): ExportedHooks | null {
  const namespace = modules[0]?.namespace ?? 'default';
  let set: ModuleSet | null = null;
  try {
    set = new ModuleSet(namespace, modules, quietHost(namespace));
    const out: ExportedHooks = {};
    for (const m of modules) {
      const exports = set.exportsOf(m.name);
      for (const hook of HOOKS) if (typeof exports[hook] === 'function') out[hook] ??= m.name;
    }
    return out;
  } catch {
    return null;
  } finally {
    set?.dispose();
  }
}

/**
 * What the module author means, following how the gateway runs a route (DGate §3.4): with a
 * service, fetchUpstream → requestModifier → upstream → responseModifier; without one,
 * requestModifier → requestHandler. A module exporting requestHandler answers by itself, so its
 * route gets no service and any upstream asked for is never called; with no upstream said and no
 * requestHandler, a stub answering 200 "" stands in for the service.
 */
export function planRoute(hooks: ExportedHooks, asked: UpstreamChoice): RoutePlan {
  const notes: string[] = [];
  let upstream: StubAnswer | { url: string } | null;
  if (hooks.requestHandler !== undefined) {
    upstream = null;
    if (asked !== undefined && asked !== null) {
      notes.push(
        `the upstream is never called: module ${hooks.requestHandler} exports requestHandler, which answers on a route without a service; the upstream ${'url' in asked ? 'URL' : 'answer'} given is not used`,
      );
    }
  } else {
    upstream = asked === undefined ? {} : asked;
    if (upstream === null) notes.push('no module exports requestHandler: the route has no service, so the gateway answers 501');
  }
  if (upstream === null) {
    for (const hook of ['fetchUpstream', 'responseModifier'] as const) {
      const from = hooks[hook];
      if (from !== undefined) notes.push(`${hook} of module ${from} never runs: a route without a service has no upstream`);
    }
  }
  return { upstream, notes };
}

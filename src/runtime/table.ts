import type { State } from '../core/state.js';
import type { ModuleSet } from '../modules/module-set.js';
import type { ModuleSets } from '../modules/module-sets.js';
import { linkRoute } from '../modules/route-hooks.js';
import { compileHostPattern, NamespaceResolver } from './domains.js';
import { RouteRuntime } from './route-runtime.js';
import { PathRouter } from './router/router.js';
import { ServiceRuntime, type PoolProvider } from './service-runtime.js';

export interface TableOptions {
  /** false when disable_default_namespace is set */
  defaultNamespace: boolean;
  allowedDomains: readonly string[];
  redirectHttps: readonly string[];
}

export interface NamespaceRuntime<P> {
  readonly name: string;
  /** null when the namespace has no routes */
  readonly router: PathRouter<RouteRuntime<P>> | null;
}

/**
 * Everything the proxy needs to serve one revision, built off the hot path and swapped by
 * reference: host → namespace resolution, one router per namespace, routes bound to services
 * and their connection pools.
 */
export interface RuntimeTable<P> {
  readonly rev: number;
  readonly resolver: NamespaceResolver;
  readonly namespaces: ReadonlyMap<string, NamespaceRuntime<P>>;
  /** null when proxy.allowed_domains is empty */
  readonly allowedDomain: ((host: string) => boolean) | null;
  /** null when proxy.redirect_https is empty */
  readonly redirectHttps: ((host: string) => boolean) | null;
  /** the routes that run module code */
  readonly moduleRoutes: readonly RouteRuntime<P>[];
}

function anyOf(patterns: readonly string[]): ((host: string) => boolean) | null {
  if (patterns.length === 0) return null;
  const fns = patterns.map((p) => compileHostPattern(p));
  return (host) => fns.some((f) => f(host));
}

/**
 * Builds the runtime table of a state. Throws a GatewayError when the state cannot be served
 * (e.g. a route path the router refuses): the admin write that would produce it is refused.
 */
export function buildRuntimeTable<P>(state: State, opts: TableOptions, pools: PoolProvider<P>, modules: ModuleSets): RuntimeTable<P> {
  const sets: ModuleSet[] = [];
  const moduleRoutes: RouteRuntime<P>[] = [];
  const namespaceNames = state.list('namespace').map((n) => n.name);
  const resolver = new NamespaceResolver({
    domains: state.list('domain'),
    namespaces: namespaceNames,
    defaultNamespace: opts.defaultNamespace && state.has('namespace', 'default', 'default') ? 'default' : null,
  });
  const namespaces = new Map<string, NamespaceRuntime<P>>();
  for (const ns of namespaceNames) {
    const moduleDefs = state.list('module', ns);
    // Every module is compiled (a syntax error refuses the write), used or not; loaded when a route uses it.
    const set = moduleDefs.length === 0 ? null : modules.get(ns, moduleDefs);
    if (set !== null) sets.push(set);
    const routes = state.list('route', ns);
    if (routes.length === 0) {
      namespaces.set(ns, { name: ns, router: null });
      continue;
    }
    const services = new Map<string, ServiceRuntime<P>>();
    const router = new PathRouter<RouteRuntime<P>>();
    // Routes are added in name order, so for one pattern and method the later name wins (as DGate).
    for (const route of routes) {
      let service: ServiceRuntime<P> | null = null;
      if (route.service !== undefined) {
        service = services.get(route.service) ?? null;
        if (service === null) {
          const def = state.get('service', ns, route.service);
          if (def !== undefined) {
            service = new ServiceRuntime(def, pools);
            services.set(route.service, service);
          }
        }
      }
      const hooks = set !== null && route.modules !== undefined && route.modules.length > 0 ? linkRoute(set, route.name, route.modules) : null;
      const serviceDef = route.service === undefined ? undefined : state.get('service', ns, route.service);
      const rt = new RouteRuntime(route, service, hooks, serviceDef, state.get('namespace', ns, ns));
      if (hooks !== null) moduleRoutes.push(rt);
      for (const path of route.paths) router.add(path, route.methods, rt);
    }
    namespaces.set(ns, { name: ns, router });
  }
  for (const set of sets) modules.keep(set);
  modules.sweep();
  return {
    rev: state.rev,
    resolver,
    namespaces,
    allowedDomain: anyOf(opts.allowedDomains),
    redirectHttps: anyOf(opts.redirectHttps),
    moduleRoutes,
  };
}

/** A pool provider that opens nothing: for checking that a candidate state can be built. */
export const noPools: PoolProvider<null> = { pool: () => null };

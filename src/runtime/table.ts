import type { Kind, Service } from '../core/types.js';
import type { State, TableChanges } from '../core/state.js';
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
  /** the services its routes use, by name */
  readonly services: ReadonlyMap<string, ServiceRuntime<P>>;
  /** its routes that run module code */
  readonly moduleRoutes: readonly RouteRuntime<P>[];
  /** its modules (null without any) */
  readonly modules: ModuleSet | null;
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

/** A table built from a state, not yet in use: `accept` makes it the builder's current one. */
export interface CandidateTable<P> {
  readonly table: RuntimeTable<P>;
  /** true when some namespace runtime was rebuilt (routers, services, modules) */
  readonly rebuilt: boolean;
  accept(): void;
}

function anyOf(patterns: readonly string[]): ((host: string) => boolean) | null {
  if (patterns.length === 0) return null;
  const fns = patterns.map((p) => compileHostPattern(p));
  return (host) => fns.some((f) => f(host));
}

/** The kinds a namespace runtime is built from; documents, secrets and collections are read by modules at request time. */
const NAMESPACE_KINDS: readonly Kind[] = ['namespace', 'route', 'service', 'module'];

function touches(changes: TableChanges | null, ns: string): boolean {
  if (changes === null) return true;
  for (const k of NAMESPACE_KINDS) if (changes.get(k)?.has(ns)) return true;
  return false;
}

/**
 * Builds runtime tables revision after revision, rebuilding only what a change touched: a
 * document, secret or collection change rebuilds nothing (the new table shares every router);
 * a route, service, module or namespace change in namespace N rebuilds N's router only, and
 * services whose definition is unchanged keep their runtime (pools, round-robin position);
 * domains and the namespace list rebuild the host resolver only. What changed is found by
 * identity between the previous and the next state (see State.changedSince), so any state
 * reachable from the previous one works, and an unrelated one (a reload) rebuilds everything.
 *
 * `prepare` throws a GatewayError when the state cannot be served (e.g. a module that does not
 * compile); the current table is then left as it was.
 */
export class TableBuilder<P> {
  readonly #opts: TableOptions;
  readonly #pools: PoolProvider<P>;
  readonly #modules: ModuleSets;
  readonly #allowedDomain: ((host: string) => boolean) | null;
  readonly #redirectHttps: ((host: string) => boolean) | null;
  #state: State | null = null;
  #table: RuntimeTable<P> | null = null;

  constructor(opts: TableOptions, pools: PoolProvider<P>, modules: ModuleSets) {
    this.#opts = opts;
    this.#pools = pools;
    this.#modules = modules;
    this.#allowedDomain = anyOf(opts.allowedDomains);
    this.#redirectHttps = anyOf(opts.redirectHttps);
  }

  /** the table accepted last (null before the first) */
  get table(): RuntimeTable<P> | null {
    return this.#table;
  }

  /** Forgets the current table: the next one is built from scratch (services still matched by definition). */
  reset(): void {
    this.#state = null;
  }

  prepare(next: State): CandidateTable<P> {
    const prev = this.#table;
    const changes = prev === null || this.#state === null ? null : next.changedSince(this.#state);
    const namespaceNames = next.list('namespace').map((n) => n.name);

    let resolver = prev?.resolver ?? null;
    if (resolver === null || changes === null || changes.has('domain') || changes.has('namespace')) {
      resolver = new NamespaceResolver({
        domains: next.list('domain'),
        namespaces: namespaceNames,
        defaultNamespace: this.#opts.defaultNamespace && next.has('namespace', 'default', 'default') ? 'default' : null,
      });
    }

    const routing = changes === null || NAMESPACE_KINDS.some((k) => changes.has(k));
    let namespaces = prev?.namespaces ?? new Map<string, NamespaceRuntime<P>>();
    let moduleRoutes = prev?.moduleRoutes ?? [];
    if (routing) {
      const map = new Map<string, NamespaceRuntime<P>>();
      for (const ns of namespaceNames) {
        const before = prev?.namespaces.get(ns);
        if (before !== undefined && !touches(changes, ns)) {
          map.set(ns, before);
          continue;
        }
        const built = this.#buildNamespace(next, ns, before);
        map.set(ns, built);
      }
      namespaces = map;
      moduleRoutes = [...map.values()].flatMap((n) => n.moduleRoutes);
    }

    const table: RuntimeTable<P> = { rev: next.rev, resolver, namespaces, allowedDomain: this.#allowedDomain, redirectHttps: this.#redirectHttps, moduleRoutes };
    return {
      table,
      rebuilt: routing,
      accept: () => {
        if (routing) this.#modules.retain(modulesOf(namespaces));
        this.#state = next;
        this.#table = table;
      },
    };
  }

  #buildNamespace(state: State, ns: string, before: NamespaceRuntime<P> | undefined): NamespaceRuntime<P> {
    const moduleDefs = state.list('module', ns);
    // Every module is compiled (a syntax error refuses the write), used or not; loaded when a route uses it.
    const set = moduleDefs.length === 0 ? null : this.#modules.get(ns, moduleDefs);
    const routes = state.list('route', ns);
    const services = new Map<string, ServiceRuntime<P>>();
    const moduleRoutes: RouteRuntime<P>[] = [];
    if (routes.length === 0) return { name: ns, router: null, services, moduleRoutes, modules: set };
    const namespaceDef = state.get('namespace', ns, ns);
    const router = new PathRouter<RouteRuntime<P>>();
    // Routes are added in name order, so for one pattern and method the later name wins (as DGate).
    for (const route of routes) {
      let service: ServiceRuntime<P> | null = null;
      let serviceDef: Service | undefined;
      if (route.service !== undefined) {
        serviceDef = state.get('service', ns, route.service);
        service = services.get(route.service) ?? null;
        if (service === null && serviceDef !== undefined) {
          const old = before?.services.get(route.service);
          service = old !== undefined && sameService(old.definition, serviceDef) ? old : new ServiceRuntime(serviceDef, this.#pools);
          services.set(route.service, service);
        }
      }
      const hooks = set !== null && route.modules !== undefined && route.modules.length > 0 ? linkRoute(set, route.name, route.modules) : null;
      const rt = new RouteRuntime(route, service, hooks, serviceDef, namespaceDef);
      if (hooks !== null) moduleRoutes.push(rt);
      for (const path of route.paths) router.add(path, route.methods, rt);
    }
    return { name: ns, router, services, moduleRoutes, modules: set };
  }
}

function* modulesOf<P>(namespaces: ReadonlyMap<string, NamespaceRuntime<P>>): Iterable<ModuleSet> {
  for (const n of namespaces.values()) if (n.modules !== null) yield n.modules;
}

function sameService(a: Service, b: Service): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** Builds the runtime table of a state from scratch (tests and one-off checks). */
export function buildRuntimeTable<P>(state: State, opts: TableOptions, pools: PoolProvider<P>, modules: ModuleSets): RuntimeTable<P> {
  const c = new TableBuilder(opts, pools, modules).prepare(state);
  c.accept();
  return c.table;
}

/** A pool provider that opens nothing: for checking that a candidate state can be built. */
export const noPools: PoolProvider<null> = { pool: () => null };

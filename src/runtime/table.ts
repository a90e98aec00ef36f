import type { Kind, Namespace, Route, Service } from '../core/types.js';
import type { State, TableChanges } from '../core/state.js';
import type { ModuleSet } from '../modules/module-set.js';
import type { ModuleSets } from '../modules/module-sets.js';
import { linkRoute } from '../modules/route-hooks.js';
import { DomainCertificates } from './certificates.js';
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
 * A namespace's runtime as the builder keeps it: a route write updates it in place (the router
 * loses the route's old registrations and gets the new ones), synchronously, between two
 * requests. Everything else in the namespace stays the same object.
 */
class MutableNamespace<P> implements NamespaceRuntime<P> {
  readonly name: string;
  readonly router: PathRouter<RouteRuntime<P>>;
  readonly services = new Map<string, ServiceRuntime<P>>();
  moduleRoutes: RouteRuntime<P>[] = [];
  readonly modules: ModuleSet | null;
  /** the runtime of each route with the definition it was built from */
  readonly routes = new Map<string, { def: Route; rt: RouteRuntime<P> }>();
  /** route registrations removed since the router was built (emptied nodes stay until a rebuild) */
  removals = 0;

  constructor(name: string, modules: ModuleSet | null) {
    this.name = name;
    this.modules = modules;
    this.router = new PathRouter<RouteRuntime<P>>();
  }

  put(def: Route, rt: RouteRuntime<P>): void {
    this.delete(def.name);
    this.routes.set(def.name, { def, rt });
    for (const path of def.paths) this.router.add(path, def.methods, rt, def.name);
  }

  delete(name: string): void {
    const old = this.routes.get(name);
    if (old === undefined) return;
    this.routes.delete(name);
    for (const path of old.def.paths) this.router.remove(path, old.rt);
    this.removals += old.def.paths.length;
  }
}

/** What a candidate table will change in a kept namespace once accepted. */
interface NamespacePatch<P> {
  readonly ns: MutableNamespace<P>;
  readonly put: Array<{ def: Route; rt: RouteRuntime<P> }>;
  readonly deleted: string[];
  readonly services: Map<string, ServiceRuntime<P> | null>;
}

/**
 * Everything the proxy needs to serve one revision, built off the hot path and swapped by
 * reference: host → namespace resolution, one router per namespace, routes bound to services
 * and their connection pools.
 */
export interface RuntimeTable<P> {
  readonly rev: number;
  readonly resolver: NamespaceResolver;
  /** the domains' certificates for the TLS listener, by SNI name (same object while domains are unchanged) */
  readonly certificates: DomainCertificates;
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
    let certificates = prev?.certificates ?? null;
    if (certificates === null || changes === null || changes.has('domain')) certificates = new DomainCertificates(next.list('domain'), this.#allowedDomain);

    const routing = changes === null || NAMESPACE_KINDS.some((k) => changes.has(k));
    let namespaces = prev?.namespaces ?? new Map<string, NamespaceRuntime<P>>();
    let moduleRoutes = prev?.moduleRoutes ?? [];
    const patches: NamespacePatch<P>[] = [];
    if (routing) {
      const map = new Map<string, NamespaceRuntime<P>>();
      let replaced = false;
      for (const ns of namespaceNames) {
        const before = prev?.namespaces.get(ns) as MutableNamespace<P> | undefined;
        if (before !== undefined && !touches(changes, ns)) {
          map.set(ns, before);
          continue;
        }
        const patch = before === undefined || changes === null ? null : this.#patch(this.#state!, next, changes, before);
        if (patch !== null) {
          patches.push(patch);
          map.set(ns, before!);
        } else {
          map.set(ns, this.#buildNamespace(next, ns, before));
          replaced = true;
        }
      }
      if (replaced || prev === null || map.size !== prev.namespaces.size) {
        namespaces = map;
        moduleRoutes = [...map.values()].flatMap((n) => n.moduleRoutes);
      }
    }

    const table: RuntimeTable<P> = { rev: next.rev, resolver, certificates, namespaces, allowedDomain: this.#allowedDomain, redirectHttps: this.#redirectHttps, moduleRoutes };
    return {
      table,
      rebuilt: routing,
      accept: () => {
        let hooksChanged = false;
        for (const p of patches) hooksChanged = applyPatch(p) || hooksChanged;
        if (hooksChanged) {
          (table as { moduleRoutes: readonly RouteRuntime<P>[] }).moduleRoutes = [...namespaces.values()].flatMap((n) => n.moduleRoutes);
        }
        if (routing) this.#modules.retain(modulesOf(namespaces));
        this.#state = next;
        this.#table = table;
      },
    };
  }

  /**
   * The route and service changes of a namespace whose modules and namespace item are unchanged,
   * built (and so checked) now, applied at accept; null when the namespace must be rebuilt whole.
   */
  #patch(prevState: State, next: State, changes: TableChanges, ns: MutableNamespace<P>): NamespacePatch<P> | null {
    if (changes.get('module')?.has(ns.name) || changes.get('namespace')?.has(ns.name)) return null;
    const nextRoutes = next.table('route', ns.name);
    // Emptied router nodes are dropped by a rebuild once removals outnumber the routes.
    if (ns.removals > Math.max(1000, nextRoutes.size)) return null;
    const services = new Map<string, ServiceRuntime<P> | null>();
    if (changes.get('service')?.has(ns.name)) {
      for (const name of next.changedNames(prevState, 'service', ns.name)) {
        const def = next.get('service', ns.name, name);
        const old = ns.services.get(name);
        // A service no route uses yet gets its runtime when a route does.
        if (old === undefined) continue;
        if (def === undefined) services.set(name, null);
        else if (!sameService(old.definition, def)) services.set(name, new ServiceRuntime(def, this.#pools));
      }
    }
    const names = new Set(changes.get('route')?.has(ns.name) ? next.changedNames(prevState, 'route', ns.name) : []);
    if (services.size > 0) for (const [name, r] of ns.routes) if (r.def.service !== undefined && services.has(r.def.service)) names.add(name);
    const put: Array<{ def: Route; rt: RouteRuntime<P> }> = [];
    const deleted: string[] = [];
    const namespaceDef = next.get('namespace', ns.name, ns.name);
    for (const name of names) {
      const def = nextRoutes.get(name);
      const kept = ns.routes.get(name);
      if (def === undefined) {
        if (kept !== undefined) deleted.push(name);
        continue;
      }
      const serviceChanged = def.service !== undefined && services.has(def.service);
      if (kept !== undefined && !serviceChanged && sameRoute(kept.def, def)) continue;
      put.push({ def, rt: this.#route(next, ns.name, ns.modules, def, services, ns.services, namespaceDef) });
    }
    return { ns, put, deleted, services };
  }

  /**
   * One route's runtime (patterns checked, modules linked): throws when it cannot be served. Its
   * service comes from `fresh` (services built for this table; a new one is added there), else
   * from `kept` when its definition is unchanged.
   */
  #route(
    state: State,
    ns: string,
    set: ModuleSet | null,
    def: Route,
    fresh: Map<string, ServiceRuntime<P> | null>,
    kept: ReadonlyMap<string, ServiceRuntime<P>>,
    namespaceDef: Namespace | undefined,
  ): RouteRuntime<P> {
    for (const path of def.paths) PathRouter.check(path, def.methods);
    let service: ServiceRuntime<P> | null = null;
    let serviceDef: Service | undefined;
    if (def.service !== undefined) {
      serviceDef = state.get('service', ns, def.service);
      if (serviceDef !== undefined) {
        service = fresh.get(def.service) ?? null;
        if (service === null) {
          const old = kept.get(def.service);
          service = old !== undefined && sameService(old.definition, serviceDef) ? old : new ServiceRuntime(serviceDef, this.#pools);
          if (service !== old) fresh.set(def.service, service);
        }
      }
    }
    const hooks = set !== null && def.modules !== undefined && def.modules.length > 0 ? linkRoute(set, def.name, def.modules) : null;
    return new RouteRuntime(def, service, hooks, serviceDef, namespaceDef);
  }

  #buildNamespace(state: State, name: string, before: NamespaceRuntime<P> | undefined): MutableNamespace<P> {
    const moduleDefs = state.list('module', name);
    // Every module is compiled (a syntax error refuses the write), used or not; loaded when a route uses it.
    const set = moduleDefs.length === 0 ? null : this.#modules.get(name, moduleDefs);
    const ns = new MutableNamespace<P>(name, set);
    const namespaceDef = state.get('namespace', name, name);
    const previous = before?.services ?? new Map<string, ServiceRuntime<P>>();
    const fresh = new Map<string, ServiceRuntime<P> | null>();
    // Routes are added in name order, so for one pattern and method the later name wins (as DGate).
    for (const def of state.list('route', name)) {
      const rt = this.#route(state, name, set, def, fresh, previous, namespaceDef);
      if (rt.service !== null) ns.services.set(rt.service.name, rt.service);
      if (rt.hooks !== null) ns.moduleRoutes.push(rt);
      ns.put(def, rt);
    }
    ns.removals = 0;
    return ns;
  }
}

/** Applies a prepared patch; true when the namespace's module routes changed. */
function applyPatch<P>(p: NamespacePatch<P>): boolean {
  const ns = p.ns;
  let hooks = false;
  for (const [name, service] of p.services) {
    if (service === null) ns.services.delete(name);
    else ns.services.set(name, service);
  }
  for (const name of p.deleted) {
    hooks = hooks || ns.routes.get(name)?.rt.hooks != null;
    ns.delete(name);
  }
  for (const { def, rt } of p.put) {
    hooks = hooks || rt.hooks !== null || ns.routes.get(def.name)?.rt.hooks != null;
    ns.put(def, rt);
    if (rt.service !== null) ns.services.set(rt.service.name, rt.service);
  }
  if (hooks) ns.moduleRoutes = [...ns.routes.values()].filter((r) => r.rt.hooks !== null).map((r) => r.rt);
  return hooks;
}

function sameRoute(a: Route, b: Route): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
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

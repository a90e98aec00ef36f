import { deepFreeze } from '../core/freeze.js';
import type { Namespace, Route, Service } from '../core/types.js';
import type { ContextInfo } from '../modules/ctx/context.js';
import type { RouteHooks } from '../modules/route-hooks.js';
import type { ServiceRuntime } from './service-runtime.js';

/**
 * One route as the proxy uses it, resolved when the revision is applied: its service (or null),
 * and the header values it sends, computed once.
 */
let nextId = 1;

export class RouteRuntime<P> {
  /** process-unique id (names the route to the module watchdog) */
  readonly id = nextId++;
  readonly name: string;
  readonly namespace: string;
  readonly stripPath: boolean;
  readonly preserveHost: boolean;
  /** the route's request body limit (maxBodyBytes), bytes, 0 = none; null = proxy.max_body_bytes applies */
  readonly maxBodyBytes: number | null;
  readonly service: ServiceRuntime<P> | null;
  /** module names in route order (executed by the modules runtime, later) */
  readonly modules: readonly string[];
  /** X-DGate-* request headers for the upstream, as a flat [name, value, ...] list; empty when hidden */
  readonly dgateHeaders: readonly string[];
  /** the linked module functions; null for a route without modules (the plain proxy path) */
  readonly hooks: RouteHooks | null;
  /** what ctx.route()/service()/namespace() show module code; null without modules */
  readonly info: ContextInfo | null;

  constructor(route: Route, service: ServiceRuntime<P> | null, hooks: RouteHooks | null = null, serviceDef?: Service, namespace?: Namespace) {
    this.name = route.name;
    this.namespace = route.namespace;
    this.stripPath = route.stripPath;
    this.preserveHost = route.preserveHost;
    this.maxBodyBytes = route.maxBodyBytes ?? null;
    this.service = service;
    this.modules = route.modules ?? [];
    this.dgateHeaders =
      service === null || service.hideDGateHeaders
        ? []
        : ['X-DGate-Namespace', route.namespace, 'X-DGate-Route', route.name, 'X-DGate-Service', service.name];
    this.hooks = hooks;
    this.info =
      hooks === null
        ? null
        : deepFreeze({
            route: structuredClone(route) as unknown as Record<string, unknown>,
            service: serviceDef === undefined ? null : (structuredClone(serviceDef) as unknown as Record<string, unknown>),
            namespace: structuredClone(namespace ?? { name: route.namespace }) as unknown as Record<string, unknown>,
          });
  }
}

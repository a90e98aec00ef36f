import type { Route } from '../core/types.js';
import type { ServiceRuntime } from './service-runtime.js';

/**
 * One route as the proxy uses it, resolved when the revision is applied: its service (or null),
 * and the header values it sends, computed once.
 */
export class RouteRuntime<P> {
  readonly name: string;
  readonly namespace: string;
  readonly stripPath: boolean;
  readonly preserveHost: boolean;
  readonly service: ServiceRuntime<P> | null;
  /** module names in route order (executed by the modules runtime, later) */
  readonly modules: readonly string[];
  /** X-DGate-* request headers for the upstream, as a flat [name, value, ...] list; empty when hidden */
  readonly dgateHeaders: readonly string[];

  constructor(route: Route, service: ServiceRuntime<P> | null) {
    this.name = route.name;
    this.namespace = route.namespace;
    this.stripPath = route.stripPath;
    this.preserveHost = route.preserveHost;
    this.service = service;
    this.modules = route.modules ?? [];
    this.dgateHeaders =
      service === null || service.hideDGateHeaders
        ? []
        : ['X-DGate-Namespace', route.namespace, 'X-DGate-Route', route.name, 'X-DGate-Service', service.name];
  }
}

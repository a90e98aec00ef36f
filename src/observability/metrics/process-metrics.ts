import client from 'prom-client';
import { channels, type ConnectionEvent, type HookEvent, type RequestEndEvent, type RevisionAppliedEvent, type UpstreamEvent } from '../channels.js';
import { CounterFamily, Gauge, HistogramFamily, type MetricJson } from './families.js';
import { LabelTree } from '../label-tree.js';
import { CappedLabel, ERROR_CODES, methodLabel, ORIGINS_PER_SERVICE, OTHER, statusClass } from './labels.js';

/** Seconds. Requests and upstream exchanges: 1 ms … 30 s. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds. Module functions are usually far below a millisecond. */
const HOOK_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];
/** Seconds. Time to apply a change. */
const APPLY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const REQUEST_LABELS = ['namespace', 'route', 'service', 'method', 'status_class'] as const;
const HOOK_LABELS = ['namespace', 'module', 'hook'] as const;
const UPSTREAM_LABELS = ['namespace', 'service', 'upstream'] as const;

/** The metric families, by name (docs/observability.md lists each with its labels). */
export const METRIC_NAMES = {
  requests: 'dgate_requests_total',
  requestDuration: 'dgate_request_duration_seconds',
  inFlight: 'dgate_requests_in_flight',
  connections: 'dgate_open_connections',
  hookDuration: 'dgate_module_hook_duration_seconds',
  hookErrors: 'dgate_module_hook_errors_total',
  upstreamDuration: 'dgate_upstream_duration_seconds',
  upstreamErrors: 'dgate_upstream_errors_total',
  upstreamRetries: 'dgate_upstream_retries_total',
  revision: 'dgate_config_revision',
  applyDuration: 'dgate_config_apply_seconds',
} as const;

/**
 * The Prometheus metrics of one process: request, module hook and upstream families fed by the
 * request-path channels, gauges for requests in flight, open connections and the served
 * revision, and prom-client's process and runtime metrics. `start()` subscribes, `stop()`
 * unsubscribes; `toJSON()` is what the node merges (prom-client's metric JSON).
 */
export class ProcessMetrics {
  readonly #requestDuration = new HistogramFamily(METRIC_NAMES.requestDuration, 'Time from the request to the last byte of the answer, seconds', REQUEST_LABELS, DURATION_BUCKETS);
  readonly #inFlight = new Gauge(METRIC_NAMES.inFlight, 'Requests being answered', 'sum');
  readonly #connections = new Gauge(METRIC_NAMES.connections, 'Open client connections on the proxy listener (Node listener only)', 'sum');
  readonly #hookDuration = new HistogramFamily(METRIC_NAMES.hookDuration, 'Time spent in a module function call, seconds', HOOK_LABELS, HOOK_BUCKETS);
  readonly #hookErrors = new CounterFamily(METRIC_NAMES.hookErrors, 'Module function calls that threw, rejected or timed out', HOOK_LABELS);
  readonly #upstreamDuration = new HistogramFamily(METRIC_NAMES.upstreamDuration, 'Upstream attempts: time until the answer was complete or the attempt failed, seconds', UPSTREAM_LABELS, DURATION_BUCKETS);
  readonly #upstreamErrors = new CounterFamily(METRIC_NAMES.upstreamErrors, 'Upstream attempts that failed, by error code', [...UPSTREAM_LABELS, 'error']);
  readonly #upstreamRetries = new CounterFamily(METRIC_NAMES.upstreamRetries, 'Upstream attempts that were retries on the next URL', UPSTREAM_LABELS);
  readonly #revision = new Gauge(METRIC_NAMES.revision, 'Configuration revision served (the lowest among the node\'s proxy processes)', 'min');
  readonly #applyDuration = new HistogramFamily(METRIC_NAMES.applyDuration, 'Time from a revision being seen by the node to a proxy process serving it, seconds', [], APPLY_BUCKETS);
  readonly #origins = new CappedLabel(ORIGINS_PER_SERVICE);
  /** the origins #origins kept, by namespace, service and upstream (a kept value stays kept) */
  readonly #originLabels = new LabelTree<string>();
  readonly #errorCodes = new CappedLabel(ERROR_CODES);
  readonly #runtime = new client.Registry();
  /** false for a process that serves no proxy traffic (the primary of a node with workers): its request families are left out */
  readonly #proxy: boolean;
  #started = false;

  constructor(opts: { proxy: boolean }) {
    this.#proxy = opts.proxy;
  }

  readonly #onStart = () => {
    this.#inFlight.value++;
  };
  readonly #onEnd = (e: RequestEndEvent) => {
    this.#inFlight.value--;
    // one series per label set: its count is dgate_requests_total
    const ns = e.namespace ?? '';
    const route = e.route ?? '';
    const service = e.service ?? '';
    const method = methodLabel(e.method);
    const cls = statusClass(e.status);
    this.#requestDuration.observe5(ns, route, service, method, cls, e.totalMs / 1000);
  };
  readonly #onHook = (e: HookEvent) => {
    this.#hookDuration.observe3(e.namespace, e.module, e.hook, e.durationMs / 1000);
    if (e.failed) this.#hookErrors.inc3(e.namespace, e.module, e.hook);
  };
  readonly #onUpstream = (e: UpstreamEvent) => {
    // the origin's label (capped per service) found by nested lookups once known: no key built per event
    let origin = this.#originLabels.get(e.namespace, e.service, e.upstream);
    if (origin === undefined) {
      origin = this.#origins.value(`${e.namespace}\u0001${e.service}`, e.upstream);
      // only the origins kept (at most ORIGINS_PER_SERVICE per service): those folded into "other" are unbounded
      if (origin !== OTHER) this.#originLabels.set(e.namespace, e.service, e.upstream, origin);
    }
    this.#upstreamDuration.observe3(e.namespace, e.service, origin, e.durationMs / 1000);
    if (e.retry) this.#upstreamRetries.inc([e.namespace, e.service, origin]);
    if (e.error !== null) this.#upstreamErrors.inc([e.namespace, e.service, origin, this.#errorCodes.value('', e.error)]);
  };
  readonly #onConnection = (e: ConnectionEvent) => {
    this.#connections.value += e.delta;
  };
  readonly #onRevision = (e: RevisionAppliedEvent) => {
    this.#revision.value = e.rev;
    this.#applyDuration.observe([], e.applyMs / 1000);
  };

  start(): void {
    if (this.#started) return;
    this.#started = true;
    // The event loop lag is sampled every 100 ms (prom-client's default, 10 ms, wakes every process
    // 100 times a second, which a proxy under load pays for on every request).
    client.collectDefaultMetrics({ register: this.#runtime, eventLoopMonitoringPrecision: 100 });
    if (!this.#proxy) return;
    channels.requestStart.subscribe(this.#onStart);
    channels.requestEnd.subscribe(this.#onEnd);
    channels.hook.subscribe(this.#onHook);
    channels.upstream.subscribe(this.#onUpstream);
    channels.connection.subscribe(this.#onConnection);
    channels.revisionApplied.subscribe(this.#onRevision);
  }

  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#runtime.clear();
    if (!this.#proxy) return;
    channels.requestStart.unsubscribe(this.#onStart);
    channels.requestEnd.unsubscribe(this.#onEnd);
    channels.hook.unsubscribe(this.#onHook);
    channels.upstream.unsubscribe(this.#onUpstream);
    channels.connection.unsubscribe(this.#onConnection);
    channels.revisionApplied.unsubscribe(this.#onRevision);
  }

  /** this process's metrics, in prom-client's JSON shape */
  async toJSON(): Promise<MetricJson[]> {
    const runtime = (await this.#runtime.getMetricsAsJSON()) as unknown as MetricJson[];
    if (!this.#proxy) return runtime;
    const own = [
      { toJSON: () => this.#requestDuration.countsJSON(METRIC_NAMES.requests, 'Requests answered by the proxy') },
      this.#requestDuration,
      this.#inFlight,
      this.#connections,
      this.#hookDuration,
      this.#hookErrors,
      this.#upstreamDuration,
      this.#upstreamErrors,
      this.#upstreamRetries,
      this.#revision,
      this.#applyDuration,
    ].map((f) => f.toJSON());
    return [...own, ...runtime];
  }
}

import type { MetricJson } from './metrics/families.js';
import { ProcessMetrics } from './metrics/process-metrics.js';
import { RecentStats, type RawStats } from './stats/recent.js';

/** What one process knows; the node merges its processes' answers. */
export type ObserveQuery = 'metrics' | 'stats';

/**
 * The observers of one process (the node's main process, or a proxy worker): its Prometheus
 * metrics and its recent stats, both subscribed to the request-path channels while started.
 * `proxy: false` is a main process whose proxy runs in worker processes: it reports its own
 * process and runtime metrics only.
 */
export class ProcessObserver {
  readonly #metrics: ProcessMetrics;
  readonly #stats: RecentStats | null;

  constructor(opts: { proxy: boolean }) {
    this.#metrics = new ProcessMetrics(opts);
    this.#stats = opts.proxy ? new RecentStats() : null;
  }

  start(): void {
    this.#metrics.start();
    this.#stats?.start();
  }

  stop(): void {
    this.#metrics.stop();
    this.#stats?.stop();
  }

  metrics(): Promise<MetricJson[]> {
    return this.#metrics.toJSON();
  }

  stats(): RawStats {
    return this.#stats?.snapshot() ?? { routes: [], modules: [] };
  }

  /** answers a query of the node (over IPC from a worker) */
  async answer(what: ObserveQuery): Promise<unknown> {
    return what === 'metrics' ? this.metrics() : this.stats();
  }
}

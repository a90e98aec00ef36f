import client from 'prom-client';
import type { MetricJson } from './metrics/families.js';
import type { ObserveQuery, ProcessObserver } from './process-observer.js';
import type { RawStats } from './stats/recent.js';
import { mergeStats } from './stats/view.js';

/** The node's metrics and stats, for the admin API. */
export interface NodeObservability {
  /** the Prometheus text of the whole node (every process merged) */
  metrics(): Promise<{ contentType: string; text: string }>;
  /** the node's recent stats (every process merged), in the mergeable form */
  stats(): Promise<RawStats>;
}

/** Asks the node's other processes (its proxy workers); resolves with the answers that came in time. */
export type AskProcesses = (what: ObserveQuery) => Promise<unknown[]>;

/**
 * One view of the node: this process's observer plus its workers' answers, merged (metrics with
 * prom-client's AggregatorRegistry: counters and histograms add up, the served revision is the
 * lowest; stats series by series). The cluster view merges nodes' stats the same way.
 */
export function nodeView(own: ProcessObserver, ask: AskProcesses): NodeObservability {
  return {
    async metrics() {
      const [mine, others] = await Promise.all([own.metrics(), ask('metrics')]);
      const registry = client.AggregatorRegistry.aggregate([mine, ...(others as MetricJson[][])] as unknown as Parameters<typeof client.AggregatorRegistry.aggregate>[0]);
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
    async stats() {
      const others = (await ask('stats')) as RawStats[];
      return mergeStats([own.stats(), ...others]);
    },
  };
}

/**
 * Counters, gauges and histograms kept as plain numbers per label set, updated with a map
 * lookup per event, and turned into prom-client's metric JSON (`Registry.getMetricsAsJSON()`'s
 * shape) only when scraped, so that the node can merge its processes' metrics with
 * prom-client's AggregatorRegistry.
 */

import { LabelTree } from '../label-tree.js';

/** One metric in prom-client's JSON shape. */
export interface MetricJson {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
  aggregator: 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';
}

const SEP = '\u0001';

/** the values of a three-label series */
function three(a: string, b: string, c: string): readonly string[] {
  return [a, b, c];
}

abstract class Family<S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly series = new Map<string, { labels: readonly string[]; s: S }>();
  /** three-label series found without a joined key (series are never dropped: it stays true) */
  readonly #tree = new LabelTree<S>();
  /** five-label series: the first three through a LabelTree, the last two through nested maps */
  readonly #tree5 = new LabelTree<Map<string, Map<string, S>>>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  protected abstract create(): S;

  /** the series of these label values (in labelNames order), created on first use */
  protected at(values: readonly string[]): S {
    return this.atKey(values.length === 1 ? values[0]! : values.join(SEP), values);
  }

  /** the same, for a caller that has the key already (`values` joined by "\u0001"); `values` is kept only for a new series */
  protected atKey(key: string, values: readonly string[] | (() => readonly string[])): S {
    let e = this.series.get(key);
    if (e === undefined) this.series.set(key, (e = { labels: typeof values === 'function' ? values() : values, s: this.create() }));
    return e.s;
  }

  /** the series of three label values, found by nested lookups once it exists */
  protected at3(a: string, b: string, c: string): S {
    let s = this.#tree.get(a, b, c);
    if (s === undefined) {
      s = this.atKey(a + SEP + b + SEP + c, () => three(a, b, c));
      this.#tree.set(a, b, c, s);
    }
    return s;
  }

  /** the series of five label values, found by nested lookups once it exists */
  protected at5(a: string, b: string, c: string, d: string, e: string): S {
    let level4 = this.#tree5.get(a, b, c);
    if (level4 === undefined) this.#tree5.set(a, b, c, (level4 = new Map()));
    let level5 = level4.get(d);
    if (level5 === undefined) level4.set(d, (level5 = new Map()));
    let s = level5.get(e);
    if (s === undefined) {
      s = this.atKey(a + SEP + b + SEP + c + SEP + d + SEP + e, () => [a, b, c, d, e]);
      level5.set(e, s);
    }
    return s;
  }

  protected labelsOf(values: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < this.labelNames.length; i++) out[this.labelNames[i]!] = values[i]!;
    return out;
  }

  /** how many label sets this family holds */
  get size(): number {
    return this.series.size;
  }

  abstract toJSON(): MetricJson;
}

export class CounterFamily extends Family<{ v: number }> {
  protected create() {
    return { v: 0 };
  }
  inc(values: readonly string[], by = 1): void {
    this.at(values).v += by;
  }
  /** inc() of a three-label series */
  inc3(a: string, b: string, c: string, by = 1): void {
    this.at3(a, b, c).v += by;
  }
  toJSON(): MetricJson {
    return {
      name: this.name,
      help: this.help,
      type: 'counter',
      aggregator: 'sum',
      values: [...this.series.values()].map((e) => ({ value: e.s.v, labels: this.labelsOf(e.labels) })),
    };
  }
}

/** A gauge without labels; `aggregator` says how the node combines its processes' values. */
export class Gauge {
  readonly name: string;
  readonly help: string;
  readonly #aggregator: MetricJson['aggregator'];
  value = 0;

  constructor(name: string, help: string, aggregator: MetricJson['aggregator']) {
    this.name = name;
    this.help = help;
    this.#aggregator = aggregator;
  }

  toJSON(): MetricJson {
    return { name: this.name, help: this.help, type: 'gauge', aggregator: this.#aggregator, values: [{ value: this.value, labels: {} }] };
  }
}

interface HistogramSeries {
  /** per bucket (not cumulative); the last one is +Inf */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly #bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames);
    this.#bounds = bounds;
  }

  protected create(): HistogramSeries {
    return { counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
  }

  observe(values: readonly string[], v: number): void {
    this.#add(this.at(values), v);
  }

  /** observe() of a three-label series */
  observe3(a: string, b: string, c: string, v: number): void {
    this.#add(this.at3(a, b, c), v);
  }

  /** observe() of a five-label series */
  observe5(a: string, b: string, c: string, d: string, e: string, v: number): void {
    this.#add(this.at5(a, b, c, d, e), v);
  }

  /** observe() for a caller that built the series key itself (see atKey) */
  observeKeyed(key: string, values: () => readonly string[], v: number): void {
    this.#add(this.atKey(key, values), v);
  }

  #add(s: HistogramSeries, v: number): void {
    const b = this.#bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    s.counts[i]!++;
    s.sum += v;
    s.count++;
  }

  /** a counter family of the series' counts (e.g. requests_total beside their duration histogram) */
  countsJSON(name: string, help: string): MetricJson {
    return {
      name,
      help,
      type: 'counter',
      aggregator: 'sum',
      values: [...this.series.values()].map((e) => ({ value: e.s.count, labels: this.labelsOf(e.labels) })),
    };
  }

  toJSON(): MetricJson {
    const out: MetricJson['values'] = [];
    const bucket = `${this.name}_bucket`;
    for (const e of this.series.values()) {
      const labels = this.labelsOf(e.labels);
      let acc = 0;
      for (let i = 0; i <= this.#bounds.length; i++) {
        acc += e.s.counts[i]!;
        out.push({ value: acc, labels: { ...labels, le: i < this.#bounds.length ? this.#bounds[i]! : '+Inf' }, metricName: bucket });
      }
      out.push({ value: e.s.sum, labels, metricName: `${this.name}_sum` });
      out.push({ value: e.s.count, labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values: out };
  }
}

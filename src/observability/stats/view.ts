import { addSparse, BUCKETS, quantile, toSparse } from './latency.js';
import { WINDOW_NAMES, type RawSeries, type RawStats, type RawWindow, type WindowName } from './recent.js';

export interface StatsFilters {
  namespace?: string;
  route?: string;
  service?: string;
  module?: string;
}

/** One window as people read it: counts, and latency percentiles in ms (null without requests). */
export interface WindowSummary {
  requests: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface RouteStats {
  namespace: string;
  /** "" for requests no route matched */
  route: string;
  service: string;
  windows: Record<WindowName, WindowSummary>;
}

export interface ModuleStats {
  namespace: string;
  route: string;
  module: string;
  windows: Record<WindowName, WindowSummary>;
}

export interface StatsSummary {
  /** every route row shown, together */
  total: Record<WindowName, WindowSummary>;
  routes: RouteStats[];
  modules: ModuleStats[];
}

interface Acc {
  n: number;
  errors: number;
  hist: Float64Array;
}

function emptyAcc(): Acc {
  return { n: 0, errors: 0, hist: new Float64Array(BUCKETS) };
}

function addWindow(acc: Acc, w: RawWindow): void {
  acc.n += Number(w.n) || 0;
  acc.errors += Number(w.errors) || 0;
  if (Array.isArray(w.hist)) addSparse(acc.hist, w.hist);
}

/** Adds up the stats of several processes or nodes, series by series. */
export function mergeStats(parts: readonly RawStats[]): RawStats {
  const merge = (lists: RawSeries[][]): RawSeries[] => {
    const byKey = new Map<string, { key: RawSeries['key']; windows: Record<WindowName, Acc> }>();
    for (const list of lists) {
      for (const s of list) {
        const k = s.key.join('\u0001');
        let e = byKey.get(k);
        if (e === undefined) {
          const windows = {} as Record<WindowName, Acc>;
          for (const w of WINDOW_NAMES) windows[w] = emptyAcc();
          byKey.set(k, (e = { key: s.key, windows }));
        }
        for (const w of WINDOW_NAMES) if (s.windows?.[w] !== undefined) addWindow(e.windows[w], s.windows[w]);
      }
    }
    return [...byKey.values()].map((e) => {
      const windows = {} as Record<WindowName, RawWindow>;
      for (const w of WINDOW_NAMES) windows[w] = { n: e.windows[w].n, errors: e.windows[w].errors, hist: toSparse(e.windows[w].hist) };
      return { key: e.key, windows };
    });
  };
  return { routes: merge(parts.map((p) => p.routes ?? [])), modules: merge(parts.map((p) => p.modules ?? [])) };
}

function summarize(acc: Acc): WindowSummary {
  return { requests: acc.n, errors: acc.errors, p50: quantile(acc.hist, 0.5), p95: quantile(acc.hist, 0.95), p99: quantile(acc.hist, 0.99) };
}

function summaries(s: RawSeries, into?: Record<WindowName, Acc>): Record<WindowName, WindowSummary> {
  const out = {} as Record<WindowName, WindowSummary>;
  for (const w of WINDOW_NAMES) {
    const acc = emptyAcc();
    addWindow(acc, s.windows[w]);
    if (into !== undefined) addWindow(into[w], s.windows[w]);
    out[w] = summarize(acc);
  }
  return out;
}

const byName = (a: { key: string[] }, b: { key: string[] }) => {
  for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i]! < b.key[i]! ? -1 : 1;
  return 0;
};

/**
 * The view people read, filtered: namespace and route select both lists; service selects the
 * routes of that service, and the module rows of those routes; module selects that module's
 * rows, and the routes it ran on. `total` adds up the route rows shown. Rows are sorted by
 * namespace, route, then service or module; rows without requests in the hour are left out.
 */
export function statsView(raw: RawStats, f: StatsFilters): StatsSummary {
  const inScope = (ns: string, route: string) => (f.namespace === undefined || ns === f.namespace) && (f.route === undefined || route === f.route);
  let routes = raw.routes.filter((s) => inScope(s.key[0], s.key[1]) && (f.service === undefined || s.key[2] === f.service));
  let modules = raw.modules.filter((s) => inScope(s.key[0], s.key[1]) && (f.module === undefined || s.key[2] === f.module));
  const pair = (s: RawSeries) => `${s.key[0]}\u0001${s.key[1]}`;
  if (f.service !== undefined) {
    const shown = new Set(routes.map(pair));
    modules = modules.filter((s) => shown.has(pair(s)));
  }
  if (f.module !== undefined) {
    const ran = new Set(modules.map(pair));
    routes = routes.filter((s) => ran.has(pair(s)));
  }
  const total = {} as Record<WindowName, Acc>;
  for (const w of WINDOW_NAMES) total[w] = emptyAcc();
  const active = (s: RawSeries) => (Number(s.windows['1h']?.n) || 0) > 0;
  const routeRows = routes
    .filter(active)
    .sort(byName)
    .map((s) => ({ namespace: s.key[0], route: s.key[1], service: s.key[2], windows: summaries(s, total) }));
  const moduleRows = modules
    .filter(active)
    .sort(byName)
    .map((s) => ({ namespace: s.key[0], route: s.key[1], module: s.key[2], windows: summaries(s) }));
  const totals = {} as Record<WindowName, WindowSummary>;
  for (const w of WINDOW_NAMES) totals[w] = summarize(total[w]);
  return { total: totals, routes: routeRows, modules: moduleRows };
}

import { channels, type HookEvent, type RequestEndEvent } from '../channels.js';
import { LabelTree } from '../label-tree.js';
import { BUCKETS, bucketOf, toSparse, type SparseHistogram } from './latency.js';

/** The windows stats are given for, and their length in 10 s slots. */
export const WINDOWS = { '1m': 6, '5m': 30, '1h': 360 } as const;
export type WindowName = keyof typeof WINDOWS;
export const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];

const SLOT_MS = 10_000;
/** 10 s slots kept as they are (6 min, covers the 1m and 5m windows) */
const TEN_SLOTS = 36;
/** a 10 s slot pushed out of the ring is added to its minute (60 min, for the 1h window) */
const MINUTE_SLOTS = 60;
const TENS_PER_MINUTE = 6;
/** a series without traffic for this long is dropped */
const IDLE_MS = 3_600_000 + 2 * 60_000;

interface Slot {
  /** slot number (time / slot length) */
  epoch: number;
  n: number;
  errors: number;
  hist: Uint32Array;
}

/** Counts of one window, mergeable with other processes' and nodes'. */
export interface RawWindow {
  n: number;
  errors: number;
  hist: SparseHistogram;
}

export interface RawSeries {
  /** route series: [namespace, route, service]; module series: [namespace, route, module] */
  key: [string, string, string];
  windows: Record<WindowName, RawWindow>;
}

/** A process's (or a node's, once merged) recent stats. */
export interface RawStats {
  routes: RawSeries[];
  modules: RawSeries[];
}

function emptySlot(epoch: number): Slot {
  return { epoch, n: 0, errors: 0, hist: new Uint32Array(BUCKETS) };
}

function addInto(into: Slot, from: Slot): void {
  into.n += from.n;
  into.errors += from.errors;
  for (let i = 0; i < BUCKETS; i++) into.hist[i]! += from.hist[i]!;
}

/** One series' recent history: 10 s slots for 6 min, minute slots for an hour. */
class Recent {
  readonly key: [string, string, string];
  readonly #tens: Array<Slot | null> = new Array(TEN_SLOTS).fill(null);
  #minutes: Array<Slot | null> | null = null;
  lastSeen = 0;

  constructor(key: [string, string, string]) {
    this.key = key;
  }

  record(now: number, ms: number, failed: boolean): void {
    this.lastSeen = now;
    const epoch = Math.floor(now / SLOT_MS);
    const i = epoch % TEN_SLOTS;
    let slot = this.#tens[i]!;
    if (slot === null || slot.epoch !== epoch) {
      if (slot !== null) this.#rollUp(slot);
      slot = emptySlot(epoch);
      this.#tens[i] = slot;
    }
    slot.n++;
    if (failed) slot.errors++;
    slot.hist[bucketOf(ms)]!++;
  }

  #rollUp(ten: Slot): void {
    const minute = Math.floor(ten.epoch / TENS_PER_MINUTE);
    const minutes = (this.#minutes ??= new Array(MINUTE_SLOTS).fill(null));
    const i = minute % MINUTE_SLOTS;
    let slot = minutes[i]!;
    if (slot === null || slot.epoch !== minute) minutes[i] = slot = emptySlot(minute);
    addInto(slot, ten);
  }

  window(now: number, tens: number): RawWindow {
    const nowEpoch = Math.floor(now / SLOT_MS);
    const acc = emptySlot(0);
    for (const s of this.#tens) if (s !== null && s.epoch > nowEpoch - tens && s.epoch <= nowEpoch) addInto(acc, s);
    if (tens > TEN_SLOTS && this.#minutes !== null) {
      // minute slots hold only 10 s slots already pushed out of the ring: no double count
      const oldestMinute = Math.floor((nowEpoch - tens + 1) / TENS_PER_MINUTE);
      for (const s of this.#minutes) if (s !== null && s.epoch >= oldestMinute) addInto(acc, s);
    }
    return { n: acc.n, errors: acc.errors, hist: toSparse(acc.hist) };
  }
}

const SEP = '\u0001';

/**
 * Request and module stats of one process over the last minute, 5 minutes and hour, fed by the
 * request-end and module-hook channels. A request counts as an error when it was answered 5xx;
 * a module call when it threw, rejected or timed out.
 */
export class RecentStats {
  readonly #routes = new Map<string, Recent>();
  readonly #modules = new Map<string, Recent>();
  /** the same series found by their labels without a joined key (emptied when an idle series is dropped) */
  readonly #routeTree = new LabelTree<Recent>();
  readonly #moduleTree = new LabelTree<Recent>();
  readonly #now: () => number;
  #started = false;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  readonly #onEnd = (e: RequestEndEvent) => {
    this.#series(this.#routes, this.#routeTree, e.namespace ?? '', e.route ?? '', e.service ?? '').record(this.#now(), e.totalMs, e.status >= 500);
  };
  readonly #onHook = (e: HookEvent) => {
    this.#series(this.#modules, this.#moduleTree, e.namespace, e.route, e.module).record(this.#now(), e.durationMs, e.failed);
  };

  #series(map: Map<string, Recent>, tree: LabelTree<Recent>, a: string, b: string, c: string): Recent {
    let r = tree.get(a, b, c);
    if (r !== undefined) return r;
    const k = a + SEP + b + SEP + c;
    r = map.get(k);
    if (r === undefined) map.set(k, (r = new Recent([a, b, c])));
    tree.set(a, b, c, r);
    return r;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    channels.requestEnd.subscribe(this.#onEnd);
    channels.hook.subscribe(this.#onHook);
  }

  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    channels.requestEnd.unsubscribe(this.#onEnd);
    channels.hook.unsubscribe(this.#onHook);
  }

  /** Counts per series and window (series idle for more than an hour are dropped). */
  snapshot(): RawStats {
    const now = this.#now();
    const dump = (map: Map<string, Recent>, tree: LabelTree<Recent>): RawSeries[] => {
      const out: RawSeries[] = [];
      for (const [k, r] of map) {
        if (now - r.lastSeen > IDLE_MS) {
          map.delete(k);
          tree.clear();
          continue;
        }
        const windows = {} as Record<WindowName, RawWindow>;
        for (const w of WINDOW_NAMES) windows[w] = r.window(now, WINDOWS[w]);
        out.push({ key: r.key, windows });
      }
      return out;
    };
    return { routes: dump(this.#routes, this.#routeTree), modules: dump(this.#modules, this.#moduleTree) };
  }
}

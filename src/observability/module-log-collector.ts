import { channels, type ModuleLogEvent } from './channels.js';
import { MODULE_LOG_BATCH, type ModuleLogRecord, type ModuleLogSettings } from './module-log-record.js';

/** One module's allowance (a token bucket) and what it lost since the last batch. */
interface ModuleState {
  readonly namespace: string;
  readonly module: string | null;
  tokens: number;
  /** performance.now() of the last refill */
  at: number;
  /** over the module's rate limit */
  overRate: number;
  /** over the process's batch limit */
  overBatch: number;
}

/** Above this many modules seen, idle ones are forgotten at the next batch. */
const PRUNE_ABOVE = 4096;

/**
 * Collects the module log lines of one proxy process (subscribed to channels.moduleLog) into
 * batches handed to `deliver` every MODULE_LOG_BATCH.intervalMs: to the node's primary over
 * IPC from a worker process, straight into the buffer when the proxy runs in the main process.
 *
 * Bounded whatever module code does: each module may log `rateLimit` lines per second
 * (bursts up to that many), a batch carries at most MODULE_LOG_BATCH.lines lines and
 * MODULE_LOG_BATCH.chars characters of messages, and a message is cut at maxLineLength.
 * A line over a limit costs a counter increment; the batch then ends with one line per module
 * saying how many of its lines were dropped (`dropped: N`).
 */
export class ModuleLogCollector {
  readonly #rate: number;
  readonly #maxLength: number;
  readonly #deliver: (records: ModuleLogRecord[]) => void;
  readonly #modules = new Map<string, ModuleState>();
  readonly #dropping = new Set<ModuleState>();
  #pending: ModuleLogRecord[] = [];
  #chars = 0;
  #timer: NodeJS.Timeout | null = null;
  #subscribed = false;

  constructor(settings: Pick<ModuleLogSettings, 'rateLimit' | 'maxLineLength'>, deliver: (records: ModuleLogRecord[]) => void) {
    this.#rate = settings.rateLimit;
    this.#maxLength = settings.maxLineLength;
    this.#deliver = deliver;
  }

  start(): this {
    if (!this.#subscribed) channels.moduleLog.subscribe(this.#onLine);
    this.#subscribed = true;
    return this;
  }

  /** Stops collecting and delivers what is pending. */
  close(): void {
    if (this.#subscribed) channels.moduleLog.unsubscribe(this.#onLine);
    this.#subscribed = false;
    this.#flush();
  }

  readonly #onLine = (e: ModuleLogEvent): void => {
    const key = e.module === null ? e.namespace : `${e.namespace}/${e.module}`;
    let s = this.#modules.get(key);
    const now = performance.now();
    if (s === undefined) {
      s = { namespace: e.namespace, module: e.module, tokens: this.#rate, at: now, overRate: 0, overBatch: 0 };
      this.#modules.set(key, s);
    } else {
      s.tokens = Math.min(this.#rate, s.tokens + ((now - s.at) * this.#rate) / 1000);
      s.at = now;
    }
    this.#timer ??= setTimeout(this.#flush, MODULE_LOG_BATCH.intervalMs).unref();
    if (s.tokens < 1) {
      s.overRate++;
      this.#dropping.add(s);
      return;
    }
    if (this.#pending.length >= MODULE_LOG_BATCH.lines || this.#chars >= MODULE_LOG_BATCH.chars) {
      s.overBatch++;
      this.#dropping.add(s);
      return;
    }
    s.tokens -= 1;
    const message = e.message.length > this.#maxLength ? `${e.message.slice(0, this.#maxLength)} … [${e.message.length - this.#maxLength} characters cut]` : e.message;
    this.#chars += message.length;
    this.#pending.push({
      time: e.time,
      namespace: e.namespace,
      module: e.module,
      route: e.route,
      requestId: e.requestId,
      level: e.level,
      message,
      pid: process.pid,
    });
  };

  readonly #flush = (): void => {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const out = this.#pending;
    this.#pending = [];
    this.#chars = 0;
    const time = Date.now();
    for (const s of this.#dropping) {
      out.push({ time, namespace: s.namespace, module: s.module, route: null, requestId: null, level: 'warn', message: this.#dropMessage(s), pid: process.pid, dropped: s.overRate + s.overBatch });
      s.overRate = 0;
      s.overBatch = 0;
    }
    this.#dropping.clear();
    if (this.#modules.size > PRUNE_ABOVE) {
      const now = performance.now();
      for (const [key, s] of this.#modules) if (s.tokens + ((now - s.at) * this.#rate) / 1000 >= this.#rate) this.#modules.delete(key);
    }
    if (out.length > 0) this.#deliver(out);
  };

  #dropMessage(s: ModuleState): string {
    const reasons: string[] = [];
    if (s.overRate > 0) reasons.push(`${s.overRate} over the limit of ${this.#rate} lines/s per module`);
    if (s.overBatch > 0) {
      const { lines, chars, intervalMs } = MODULE_LOG_BATCH;
      reasons.push(`${s.overBatch} while this proxy process was over its limit of ${lines} lines or ${chars / 1024} KiB per ${intervalMs} ms`);
    }
    const n = s.overRate + s.overBatch;
    return `${n} line${n === 1 ? '' : 's'} dropped (${reasons.join('; ')})`;
  }
}

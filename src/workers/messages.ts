import type { Change } from '../core/change.js';
import type { Kind } from '../core/types.js';
import type { DataPlaneOptions } from '../proxy/data-plane.js';
import type { ObserveQuery } from '../observability/process-observer.js';
import type { ModuleLogRecord, ModuleLogSettings } from '../observability/module-log-record.js';

/** What a worker's module log collector needs; null: module lines are not collected (module_logs.buffer_lines 0). */
export type WorkerModuleLogs = Pick<ModuleLogSettings, 'rateLimit' | 'maxLineLength'> | null;

/** Messages between the primary process and proxy worker processes (IPC, JSON). */
export type ToWorker =
  /** `observe`: the worker subscribes its metrics and stats (false with disable_metrics) */
  | { t: 'init'; options: DataPlaneOptions; logLevel: string; nodeId: string; observe: boolean; moduleLogs: WorkerModuleLogs }
  /** the node asks each worker what it observed; answered with 'reply' and the same id */
  | { t: 'query'; id: number; what: ObserveQuery }
  /** `seenAt`: when the primary published it (ms since the epoch), for the time-to-apply measurement */
  | { t: 'snapshot'; rev: number; items: Array<{ kind: Kind; namespace: string; name: string; item: unknown }>; seenAt: number }
  /** the changes leading from revision `from` (the worker's) to `rev`; several committed batches may be merged */
  | { t: 'batch'; from: number; rev: number; changes: Change[]; seenAt: number }
  | { t: 'written'; id: number; rev: number }
  | { t: 'write-failed'; id: number; message: string; code: string; status: number };

export type FromWorker =
  | { t: 'hello' }
  | { t: 'listening'; port: number; tlsPort: number | null }
  | { t: 'ack'; rev: number }
  | { t: 'resync'; rev: number }
  /** the worker could not apply revision `rev` (null: it could not start); it has stopped accepting connections */
  | { t: 'failed'; rev: number | null; error: string }
  /** a write made by module code in the worker (dgate/state), for the primary's single write path */
  | { t: 'write'; id: number; changes: Change[] }
  /** the answer to a 'query' (null when the worker does not observe) */
  | { t: 'reply'; id: number; data: unknown }
  /** module log lines collected in the worker (a batch every 100 ms at most, bounded: see ModuleLogCollector) */
  | { t: 'logs'; lines: ModuleLogRecord[] };

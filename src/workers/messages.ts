import type { Change } from '../core/change.js';
import type { Kind } from '../core/types.js';
import type { DataPlaneOptions } from '../proxy/data-plane.js';

/** Messages between the primary process and proxy worker processes (IPC, JSON). */
export type ToWorker =
  | { t: 'init'; options: DataPlaneOptions; logLevel: string; nodeId: string }
  | { t: 'snapshot'; rev: number; items: Array<{ kind: Kind; namespace: string; name: string; item: unknown }> }
  /** the changes leading from revision `from` (the worker's) to `rev`; several committed batches may be merged */
  | { t: 'batch'; from: number; rev: number; changes: Change[] }
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
  | { t: 'write'; id: number; changes: Change[] };

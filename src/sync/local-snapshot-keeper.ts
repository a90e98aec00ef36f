import type { State } from '../core/state.js';
import type { Snapshot } from '../store/store.js';

/** Where a node keeps its last-known-good state (store/local-snapshot.ts on disk). */
export interface SnapshotFile {
  write(snapshot: Snapshot): void;
}

export interface KeeperLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Keeps a node's last-known-good snapshot current: after a revision is live, the state is written
 * (at once when nothing was written for `intervalMs`, else at the end of that interval, so a
 * burst of writes costs one file write per interval). A node started while its shared store is
 * unreachable boots from this file.
 */
export class LocalSnapshotKeeper {
  readonly #file: SnapshotFile;
  readonly #state: () => State;
  readonly #log: KeeperLogger;
  readonly #intervalMs: number;
  #writtenRev = -1;
  #lastWrite = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(file: SnapshotFile, state: () => State, log: KeeperLogger, intervalMs = 1000) {
    this.#file = file;
    this.#state = state;
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  /** A revision is live: make sure the file catches up soon. */
  live(): void {
    if (this.#timer !== null || this.#state().rev === this.#writtenRev) return;
    const wait = this.#lastWrite + this.#intervalMs - Date.now();
    if (wait <= 0) {
      this.#write();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#write();
    }, wait);
    this.#timer.unref();
  }

  /** Writes what is pending now (at shutdown). */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#state().rev !== this.#writtenRev) this.#write();
  }

  #write(): void {
    const state = this.#state();
    this.#lastWrite = Date.now();
    try {
      this.#file.write({ rev: state.rev, items: [...state.entries()] as Snapshot['items'] });
      this.#writtenRev = state.rev;
    } catch (err) {
      this.#log.warn({ rev: state.rev, error: err instanceof Error ? err.message : String(err) }, 'could not write the local snapshot');
    }
  }
}

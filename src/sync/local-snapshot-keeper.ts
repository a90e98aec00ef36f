import type { State } from '../core/state.js';
import type { Snapshot } from '../store/store.js';

/** Where a node keeps its last-known-good state (store/local-snapshot.ts on disk). */
export interface SnapshotFile {
  /** resolves once the snapshot is on disk; never called again before it settles */
  write(snapshot: Snapshot): Promise<void>;
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
  /** the write under way (writes never overlap) */
  #writing: Promise<void> | null = null;

  constructor(file: SnapshotFile, state: () => State, log: KeeperLogger, intervalMs = 1000) {
    this.#file = file;
    this.#state = state;
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  /** A revision is live: make sure the file catches up soon. */
  live(): void {
    if (this.#timer !== null || this.#writing !== null || this.#state().rev === this.#writtenRev) return;
    const wait = this.#lastWrite + this.#intervalMs - Date.now();
    if (wait <= 0) {
      void this.#write();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#write();
    }, wait);
    this.#timer.unref();
  }

  /** Writes what is pending now (at shutdown); resolves once it is on disk. */
  async flush(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#writing;
    if (this.#state().rev !== this.#writtenRev) await this.#write(false);
  }

  #write(followUp = true): Promise<void> {
    const state = this.#state();
    this.#lastWrite = Date.now();
    const run = (async () => {
      try {
        await this.#file.write({ rev: state.rev, items: [...state.entries()] as Snapshot['items'] });
        this.#writtenRev = state.rev;
      } catch (err) {
        this.#log.warn({ rev: state.rev, error: err instanceof Error ? err.message : String(err) }, 'could not write the local snapshot');
      } finally {
        this.#writing = null;
      }
      // revisions that went live while writing
      if (followUp) this.live();
    })();
    this.#writing = run;
    return run;
  }
}

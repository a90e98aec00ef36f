import type { Change } from '../core/change.js';
import type { State } from '../core/state.js';

export type ModuleLogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * What the gateway lends to the modules of one namespace: the capabilities behind the
 * `dgate/*` imports and the curated globals. One host per namespace per process; it must not
 * assume it runs in the process that holds the store (writes go through `write`, which in a
 * worker process travels to the primary).
 */
export interface ModuleHost {
  readonly namespace: string;
  /** the latest state this process serves (reads of collections, documents and secrets) */
  state(): State;
  /** the single write path (validated, committed, live everywhere before it resolves) */
  write(build: (state: State) => Change[]): Promise<State>;
  /** module console output; `module` is the module name when known */
  log(level: ModuleLogLevel, module: string | null, message: string): void;
  /** default time limit of an outgoing fetch made by module code, ms */
  readonly fetchTimeoutMs: number;
  /** process-local cache store behind dgate/storage, shared by the namespace's modules */
  readonly cache: Map<string, { value: unknown; expires: number }>;
}

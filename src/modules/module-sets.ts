import type { Module } from '../core/types.js';
import type { ModuleHost } from './host.js';
import { ModuleSet } from './module-set.js';

/**
 * The ModuleSet of each namespace, kept from one revision to the next while the namespace's
 * module code is unchanged (so module top-level state survives unrelated changes and nothing is
 * recompiled or reloaded).
 */
/** How long a replaced version keeps its timers: requests in flight finish on it meanwhile. */
const RETIRE_AFTER_MS = 60_000;

export class ModuleSets {
  readonly #hostFor: (namespace: string) => ModuleHost;
  #sets = new Map<string, ModuleSet>();
  /** sets built for a table that was never kept (e.g. a refused write) */
  #unkept = new Set<ModuleSet>();
  /** replaced sets whose timers still run for a while */
  readonly #retiring = new Set<ModuleSet>();

  constructor(hostFor: (namespace: string) => ModuleHost) {
    this.#hostFor = hostFor;
  }

  /** The set for these modules of a namespace; compiles every module (a syntax error throws a 400). */
  get(namespace: string, modules: readonly Module[]): ModuleSet {
    const key = ModuleSet.keyOf(modules);
    const current = this.#sets.get(namespace);
    if (current !== undefined && current.key === key) return current;
    const set = new ModuleSet(namespace, modules, this.#hostFor(namespace));
    this.#unkept.add(set);
    return set;
  }

  /** Keeps `set` as the namespace's current one (once the table that uses it is accepted). */
  keep(set: ModuleSet): void {
    this.#unkept.delete(set);
    const previous = this.#sets.get(set.namespace);
    if (previous !== undefined && previous !== set) this.#retire(previous);
    this.#sets.set(set.namespace, set);
  }

  /**
   * Makes `sets` (one per namespace, from the table just accepted) the current ones: the sets of
   * other namespaces are retired, and sets built for tables that were never kept are disposed.
   */
  retain(sets: Iterable<ModuleSet>): void {
    const namespaces = new Set<string>();
    for (const set of sets) {
      this.keep(set);
      namespaces.add(set.namespace);
    }
    for (const [ns, set] of [...this.#sets]) {
      if (namespaces.has(ns)) continue;
      this.#sets.delete(ns);
      this.#retire(set);
    }
    for (const set of this.#unkept) set.dispose();
    this.#unkept.clear();
  }

  /** Disposes every set, current, retiring or unkept (the data plane closes): module timers stop. */
  close(): void {
    for (const set of [...this.#sets.values(), ...this.#unkept, ...this.#retiring]) set.dispose();
    this.#sets.clear();
    this.#unkept.clear();
    this.#retiring.clear();
  }

  #retire(set: ModuleSet): void {
    this.#retiring.add(set);
    setTimeout(() => {
      this.#retiring.delete(set);
      set.dispose();
    }, RETIRE_AFTER_MS).unref();
  }
}

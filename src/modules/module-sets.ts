import type { Module } from '../core/types.js';
import type { ModuleHost } from './host.js';
import { ModuleSet } from './module-set.js';

/**
 * The ModuleSet of each namespace, kept from one revision to the next while the namespace's
 * module code is unchanged (so module top-level state survives unrelated changes and nothing is
 * recompiled or reloaded).
 */
export class ModuleSets {
  readonly #hostFor: (namespace: string) => ModuleHost;
  #sets = new Map<string, ModuleSet>();
  #used = new Set<string>();

  constructor(hostFor: (namespace: string) => ModuleHost) {
    this.#hostFor = hostFor;
  }

  /** The set for these modules of a namespace; compiles every module (a syntax error throws a 400). */
  get(namespace: string, modules: readonly Module[]): ModuleSet {
    this.#used.add(namespace);
    const key = ModuleSet.keyOf(modules);
    const current = this.#sets.get(namespace);
    if (current !== undefined && current.key === key) return current;
    const set = new ModuleSet(namespace, modules, this.#hostFor(namespace));
    return set;
  }

  /** Keeps `set` as the namespace's current one (once the table that uses it is accepted). */
  keep(set: ModuleSet): void {
    this.#sets.set(set.namespace, set);
  }

  /** Forgets the sets of namespaces not asked for since the previous call. */
  sweep(): void {
    for (const ns of [...this.#sets.keys()]) if (!this.#used.has(ns)) this.#sets.delete(ns);
    this.#used = new Set();
  }
}

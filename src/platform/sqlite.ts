/**
 * The SQLite binding the embedded store uses: better-sqlite3 on Node, bun:sqlite on Bun. Only
 * what the store needs; each runtime's file (platform/node/sqlite.ts, platform/bun/sqlite.ts)
 * adapts its driver to it. The binding is chosen once, when this module loads, so neither
 * runtime loads the other's driver.
 */
import { isBun } from './runtime.js';

/** Parameters bound positionally to `?` placeholders. */
export type SqlValue = string | number | bigint | null | Uint8Array;

export interface SqlStatement {
  run(...params: SqlValue[]): void;
  /** the first row as an object keyed by column name, undefined when there is none */
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
  /** the first column of the first row, undefined when there is no row */
  value(...params: SqlValue[]): unknown;
}

/** A function run in one transaction; the variants say how the transaction starts. */
export interface SqlTransaction<A extends unknown[], R> {
  deferred(...args: A): R;
  immediate(...args: A): R;
}

export interface SqlDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): SqlTransaction<A, R>;
  /** runs `PRAGMA <pragma>` and returns the first column of its first row */
  pragma(pragma: string): unknown;
  close(): void;
}

/** Opens (creating if missing) the database file with the runtime's driver. */
export type OpenDatabase = (file: string) => SqlDatabase;

/**
 * On Node: better-sqlite3, unless its addon was built for another Node version (an addon is built
 * for one Node ABI; `npm ci` builds it for the Node that ran it). Then node:sqlite, built into
 * Node 22.13 and later, serves instead; on an older Node the addon's error stands.
 */
async function nodeBinding(): Promise<OpenDatabase> {
  const addon = await import('./node/sqlite.js');
  try {
    addon.openDatabase(':memory:').close();
    return addon.openDatabase;
  } catch (err) {
    try {
      return (await import('./node/builtin-sqlite.js')).openDatabase;
    } catch {
      throw err;
    }
  }
}

export const openDatabase: OpenDatabase = isBun ? (await import('./bun/sqlite.js')).openDatabase : await nodeBinding();

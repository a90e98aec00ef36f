import type { SqlDatabase, SqlStatement, SqlTransaction, SqlValue } from '../sqlite.js';

/** The part of node:sqlite (Node 22.13+, built in) used here; @types/node 20 does not describe it. */
interface StatementSync {
  run(...params: SqlValue[]): unknown;
  get(...params: SqlValue[]): Record<string, unknown> | undefined;
  all(...params: SqlValue[]): unknown[];
}
interface DatabaseSync {
  exec(sql: string): void;
  prepare(sql: string): StatementSync;
  close(): void;
}
type DatabaseSyncClass = new (file: string, options: { timeout: number }) => DatabaseSync;

const { DatabaseSync } = (await import('node:sqlite' as string)) as { DatabaseSync: DatabaseSyncClass };

/**
 * node:sqlite behind the store's SQLite interface: used on a Node that better-sqlite3's addon was
 * not built for (see platform/sqlite.ts). Waits up to 5 s for another connection's lock, as
 * better-sqlite3 does.
 */
export function openDatabase(file: string): SqlDatabase {
  const db = new DatabaseSync(file, { timeout: 5000 });
  const first = (row: Record<string, unknown> | undefined) => (row === undefined ? undefined : Object.values(row)[0]);
  return {
    exec: (sql) => db.exec(sql),
    prepare: (sql) => statement(db, sql),
    transaction: <A extends unknown[], R>(fn: (...args: A) => R): SqlTransaction<A, R> => {
      const begin = (mode: string) => (...args: A): R => {
        db.exec(`BEGIN ${mode}`);
        try {
          const result = fn(...args);
          db.exec('COMMIT');
          return result;
        } catch (err) {
          try {
            db.exec('ROLLBACK');
          } catch {
            // SQLite already rolled back (e.g. after a full disk)
          }
          throw err;
        }
      };
      return { deferred: begin('DEFERRED'), immediate: begin('IMMEDIATE') };
    },
    pragma: (pragma) => first(db.prepare(`PRAGMA ${pragma}`).get()),
    close: () => db.close(),
  };
}

function statement(db: DatabaseSync, sql: string): SqlStatement {
  const s = db.prepare(sql);
  return {
    run: (...params: SqlValue[]) => void s.run(...params),
    get: (...params: SqlValue[]) => s.get(...params),
    all: (...params: SqlValue[]) => s.all(...params),
    value: (...params: SqlValue[]) => {
      const row = s.get(...params);
      return row === undefined ? undefined : Object.values(row)[0];
    },
  };
}

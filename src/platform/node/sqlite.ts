import Database from 'better-sqlite3';
import type { SqlDatabase, SqlStatement, SqlValue } from '../sqlite.js';

/** better-sqlite3 behind the store's SQLite interface. */
export function openDatabase(file: string): SqlDatabase {
  const db = new Database(file);
  return {
    exec: (sql) => void db.exec(sql),
    prepare: (sql) => statement(db, sql),
    transaction: (fn) => db.transaction(fn),
    pragma: (pragma) => db.pragma(pragma, { simple: true }),
    close: () => void db.close(),
  };
}

function statement(db: Database.Database, sql: string): SqlStatement {
  const rows = db.prepare(sql);
  // pluck() switches a statement for good, so single values use a second statement
  let single: Database.Statement | null = null;
  return {
    run: (...params: SqlValue[]) => void rows.run(...params),
    get: (...params: SqlValue[]) => rows.get(...params),
    all: (...params: SqlValue[]) => rows.all(...params),
    value: (...params: SqlValue[]) => (single ??= db.prepare(sql).pluck()).get(...params),
  };
}

import { Database } from 'bun:sqlite';
import type { SqlDatabase, SqlStatement, SqlValue } from '../sqlite.js';

/** bun:sqlite behind the store's SQLite interface. */
export function openDatabase(file: string): SqlDatabase {
  // strict: `?` parameters bind positionally and a missing one is an error, as in better-sqlite3
  const db = new Database(file, { create: true, strict: true });
  return {
    exec: (sql) => db.exec(sql),
    prepare: (sql) => statement(db, sql),
    transaction: (fn) => db.transaction(fn),
    pragma: (pragma) => db.query(`PRAGMA ${pragma}`).values()[0]?.[0],
    close: () => db.close(),
  };
}

function statement(db: Database, sql: string): SqlStatement {
  const s = db.prepare(sql);
  return {
    run: (...params: SqlValue[]) => void s.run(...params),
    get: (...params: SqlValue[]) => s.get(...params) ?? undefined,
    all: (...params: SqlValue[]) => s.all(...params),
    value: (...params: SqlValue[]) => s.values(...params)[0]?.[0],
  };
}

/**
 * The parts of Bun's own modules this code uses, typed here so the sources compile with the Node
 * type definitions only. Files that import them are loaded on Bun only.
 */
declare module 'bun:sqlite' {
  type Value = string | number | bigint | null | Uint8Array;
  export class Statement {
    run(...params: Value[]): unknown;
    get(...params: Value[]): unknown;
    all(...params: Value[]): unknown[];
    values(...params: Value[]): unknown[][];
  }
  export class Database {
    constructor(file: string, opts?: { create?: boolean; readonly?: boolean; strict?: boolean });
    exec(sql: string): void;
    prepare(sql: string): Statement;
    query(sql: string): Statement;
    transaction<A extends unknown[], R>(fn: (...args: A) => R): { (...args: A): R; deferred(...args: A): R; immediate(...args: A): R; exclusive(...args: A): R };
    close(): void;
  }
}

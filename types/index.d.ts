/**
 * Types for DGate module authors. In a module project's tsconfig.json:
 *   "compilerOptions": { "types": ["dgate/types"], "lib": ["es2022", "dom"] }
 * (or `/// <reference types="dgate/types" />` at the top of a module).
 */
/// <reference path="./dgate.d.ts" />
/// <reference path="./ctx.d.ts" />

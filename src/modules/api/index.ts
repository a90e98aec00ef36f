import type { ModuleHost } from '../host.js';
import * as crypto from './crypto.js';
import * as dgate from './dgate.js';
import * as http from './http.js';
import * as secrets from './secrets.js';
import * as state from './state.js';
import * as storage from './storage.js';
import * as util from './util.js';

/**
 * The built-in imports module code can use (`import { sleep } from 'dgate'`,
 * `import { createHash } from 'dgate/crypto'`, …). Each entry makes a fresh exports object for
 * one namespace's host; the loader resolves these names before looking for a module of the route.
 */
export interface Builtin {
  readonly name: string;
  create(host: ModuleHost): Record<string, unknown>;
}

export const BUILTINS: ReadonlyArray<Builtin> = [dgate, http, crypto, state, storage, util, secrets].map(
  ({ name, create }): Builtin => Object.freeze({ name, create }),
);

export const builtinNames: ReadonlyArray<string> = BUILTINS.map((b) => b.name);

/**
 * The dependency rules of the code base (README "Layout"), checked on the sources: imports
 * point inward, the proxy and the admin API meet only through the store and the write path,
 * and every error code comes from the one registry.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Errors } from '../src/core/errors.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    // Tests and their helpers (contract suites, test hosts, harnesses) may use anything.
    const testSupport = /\.(test|contract)\.ts$|\/(test-host|harness)\.ts$/.test(path);
    return path.endsWith('.ts') && !testSupport ? [path] : [];
  });
}

/** The top-level folder (under src/) of each relative import of a file, with whether it is type-only. */
function importsOf(file: string): Array<{ folder: string; typeOnly: boolean; spec: string }> {
  const text = readFileSync(file, 'utf8');
  const out: Array<{ folder: string; typeOnly: boolean; spec: string }> = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gm)) {
    const target = relative(SRC, resolve(dirname(file), m[3]!));
    out.push({ folder: target.split('/')[0]!, typeOnly: m[2] !== undefined, spec: m[3]! });
  }
  return out;
}

/** Environment variables read by the gateway (README); the only DG_ strings that are not error codes. */
const ENVIRONMENT_VARIABLES = new Set(['DG_CONFIG_PATH']);

const FILES = sources(SRC).map((path) => ({ path, folder: relative(SRC, path).split('/')[0]! }));

function violations(from: string, allowed: (to: string, typeOnly: boolean) => boolean): string[] {
  return FILES.filter((f) => f.folder === from).flatMap((f) =>
    importsOf(f.path)
      .filter((i) => i.folder !== from && !allowed(i.folder, i.typeOnly))
      .map((i) => `${relative(SRC, f.path)} imports ${i.spec}`),
  );
}

describe('dependency rules', () => {
  it('core imports nothing outside core', () => {
    assert.deepEqual(violations('core', () => false), []);
  });

  it('stores import only core and the platform bindings', () => {
    assert.deepEqual(violations('store', (to) => to === 'core' || to === 'platform'), []);
  });

  it('platform adapters import only core and the listen helper: every runtime difference sits below the shared code', () => {
    assert.deepEqual(violations('platform', (to) => to === 'core' || to === 'net'), []);
  });

  it('the proxy never imports the admin API, the stores or the config loader', () => {
    assert.deepEqual(violations('proxy', (to, typeOnly) => !['admin', 'store', 'cli'].includes(to) && (to !== 'config' || typeOnly)), []);
  });

  it('the admin API never imports the proxy, runtime tables or workers', () => {
    assert.deepEqual(violations('admin', (to) => !['proxy', 'runtime', 'workers', 'modules', 'cli'].includes(to)), []);
  });

  it('the client talks HTTP only: it imports core types and nothing else', () => {
    assert.deepEqual(violations('client', (to, typeOnly) => to === 'core' && typeOnly), []);
  });

  it('the CLI uses the client, pure core functions and the module test runtime only', () => {
    assert.deepEqual(violations('cli', (to) => ['client', 'core', 'module-test'].includes(to)), []);
  });

  it('module code support never reaches into the proxy, admin API or stores', () => {
    assert.deepEqual(violations('modules', (to) => !['proxy', 'admin', 'store', 'workers', 'cli'].includes(to)), []);
  });
});

describe('error registry', () => {
  it('has unique DG_ERR_ codes with HTTP-like statuses', () => {
    const codes = Object.values(Errors).map((e) => e.code);
    assert.equal(new Set(codes).size, codes.length, 'codes are unique');
    for (const e of Object.values(Errors)) {
      assert.match(e.code, /^DG_ERR_[A-Z_]+$/);
      assert.ok(e.status >= 400 && e.status < 600, `${e.code}: status ${e.status} is not an HTTP error status`);
    }
  });

  it('is the only place error codes are defined: every DG_ string in src/ is a registry code or a documented environment variable', () => {
    const known = new Set(Object.values(Errors).map((e) => e.code));
    const unknown = FILES.filter((f) => !f.path.endsWith('core/errors.ts')).flatMap((f) =>
      [...readFileSync(f.path, 'utf8').matchAll(/['"`](DG_[A-Za-z0-9_]+)['"`]/g)]
        .map((m) => m[1]!)
        .filter((c) => !known.has(c) && !ENVIRONMENT_VARIABLES.has(c))
        .map((c) => `${relative(SRC, f.path)}: ${c}`),
    );
    assert.deepEqual(unknown, []);
  });

  it('is used by the code: no error class declares its own code', () => {
    const own = FILES.filter((f) => !f.path.endsWith('core/errors.ts')).flatMap((f) =>
      [...readFileSync(f.path, 'utf8').matchAll(/\bcode\s*=\s*['"`]/g)].map(() => relative(SRC, f.path)),
    );
    assert.deepEqual(own, []);
  });
});

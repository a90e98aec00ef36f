/**
 * Finding and reading the config file, then handing it to schema.ts.
 *
 * Where the file comes from, first match wins:
 *   1. `--config FILE`, `--config=FILE`, `-c FILE` or `-c=FILE` in argv (other arguments are ignored);
 *   2. env DG_CONFIG_PATH (an empty value counts as unset);
 *   3. the first existing of config.dgate.yml, config.dgate.yaml, config.dgate.json in cwd;
 *   4. none: built-in defaults.
 * A file named by 1 or 2 must exist. Relative paths are resolved against cwd.
 * `.json` files are read as JSON, anything else as YAML. Files larger than MAX_FILE_BYTES or
 * nested deeper than MAX_NESTING_DEPTH (core/limits.ts) are refused. DGate's DG_CONFIG_DATA, DG_CONFIG_TYPE
 * and TOML files are not supported.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Errors, GatewayError } from '../core/errors.js';
import { MAX_FILE_BYTES, tooDeep, tooDeepProblem } from '../core/limits.js';
import type { Config } from './config.js';
import { validateConfig } from './schema.js';
import { substituteTree } from './substitute.js';

export interface LoadOptions {
  /** Command-line arguments (without node and the script); default process.argv.slice(2). */
  readonly argv?: readonly string[];
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Default process.cwd(). */
  readonly cwd?: string;
  /**
   * Runs a full garbage collection. Given, the parsed tree of a large YAML file is re-created
   * after one (see recreated): a process that keeps its config should pass it.
   */
  readonly collectGarbage?: () => void;
}

export interface ConfigFileLocation {
  /** Absolute path. */
  readonly path: string;
  /** How it was found, for messages. */
  readonly source: '--config' | 'DG_CONFIG_PATH' | 'working directory';
}

const CWD_CANDIDATES = ['config.dgate.yml', 'config.dgate.yaml', 'config.dgate.json'];

/** Finds, reads, substitutes and validates the config. Throws Errors.CONFIG on any problem. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const location = locateConfigFile({ argv: options.argv ?? process.argv.slice(2), env, cwd });
  if (!location) return buildConfig({}, { env, cwd });
  const raw = parseConfigText(readConfigFile(location), location.path, options.collectGarbage);
  return buildConfig(raw, { env, cwd, file: location.path });
}

/**
 * The config's `runtime` key, read without parsing the whole file when it can be: a launcher that
 * only decides which runtime to start the server on should not hold a parsed 10,000-route file.
 * A file that does not mention `runtime` means `auto`; one whose only mention is a plain
 * top-level `runtime: <name>` line (YAML) or `"runtime": "<name>"` member means that name;
 * anything else (a substituted value, a mention elsewhere in the file) is loaded in full, with
 * loadConfig's checks and errors.
 */
export function configuredRuntime(options: LoadOptions = {}): Config['runtime'] {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const full = () => loadConfig(options).runtime;
  const location = locateConfigFile({ argv: options.argv ?? process.argv.slice(2), env, cwd });
  if (location === null) return full();
  let text: string;
  try {
    text = readConfigFile(location);
  } catch {
    return full();
  }
  const mentions = text.match(/runtime/g)?.length ?? 0;
  if (mentions === 0) return 'auto';
  if (mentions > 1) return full();
  const isJson = extname(location.path).toLowerCase() === '.json';
  const line = isJson ? /^\s*\{?\s*"runtime"\s*:\s*"(auto|node|bun)"\s*[,}]/m.exec(text) : /^runtime[ \t]*:[ \t]*(["']?)(auto|node|bun)\1[ \t]*(#.*)?$/m.exec(text);
  // In JSON the member may sit in a nested object: only a one-level file is trusted.
  if (line === null || (isJson && (text.match(/\{/g)?.length ?? 0) > 1)) return full();
  return (isJson ? line[1] : line[2]) as Config['runtime'];
}

/**
 * Builds a Config from an already parsed file body (substitution, validation, defaults).
 * Handy for tests and embedders that hold the config as an object.
 */
export function buildConfig(
  raw: unknown,
  options: { env?: NodeJS.ProcessEnv; cwd?: string; file?: string | null } = {},
): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  checkDepth(raw, options.file ?? null);
  return validateConfig(substituteTree(raw, env), { env, cwd, file: options.file ?? null });
}

/** Where the config file is, or null when there is none (defaults apply). */
export function locateConfigFile(options: {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}): ConfigFileLocation | null {
  const fromArgv = configArgument(options.argv);
  if (fromArgv !== null) return { path: resolve(options.cwd, fromArgv), source: '--config' };
  const fromEnv = options.env['DG_CONFIG_PATH'];
  if (fromEnv) return { path: resolve(options.cwd, fromEnv), source: 'DG_CONFIG_PATH' };
  for (const name of CWD_CANDIDATES) {
    const path = resolve(options.cwd, name);
    if (existsSync(path)) return { path, source: 'working directory' };
  }
  return null;
}

/** The value of --config / -c in argv, or null when absent. */
function configArgument(argv: readonly string[]): string | null {
  let found: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--config' || arg === '-c') {
      const value = argv[i + 1];
      if (value === undefined || value === '' || value.startsWith('-')) {
        throw Errors.CONFIG(`${arg}: expected a file path after it`);
      }
      found = value;
      i++;
    } else if (arg.startsWith('--config=') || arg.startsWith('-c=')) {
      const value = arg.slice(arg.indexOf('=') + 1);
      if (value === '') throw Errors.CONFIG(`${arg.slice(0, arg.indexOf('='))}: expected a file path after it`);
      found = value;
    }
  }
  return found; // the last occurrence wins, as with most CLIs
}

function readConfigFile(location: ConfigFileLocation): string {
  try {
    const size = statSync(location.path).size;
    if (size > MAX_FILE_BYTES) throw Errors.CONFIG(`${location.path}: larger than ${MAX_FILE_BYTES} bytes`);
    return readFileSync(location.path, 'utf8');
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw Errors.CONFIG(`config file not found: ${location.path} (from ${location.source})`);
    throw Errors.CONFIG(`cannot read config file ${location.path}: ${(err as Error).message}`);
  }
}

/** YAML files at least this large are re-created after parsing when a collector is given. */
const RECREATE_MIN_BYTES = 256 * 1024;

/**
 * Parses file text by extension: `.json` as JSON, anything else as YAML. With `collectGarbage`,
 * a large YAML file's tree is parsed a second time from JSON after a collection: the YAML parser
 * leaves its result scattered among the ~100 MB of short-lived objects it made for 10,000 routes,
 * and on Bun (whose heap does not move objects) those scattered values keep ~30 MB of that memory
 * mapped for the life of the process; parsed again they sit together. A tree holding values JSON
 * cannot carry (infinities, NaN, -0, binary) is kept as parsed.
 */
export function parseConfigText(text: string, path: string, collectGarbage?: () => void): unknown {
  const isJson = extname(path).toLowerCase() === '.json';
  let raw: unknown;
  try {
    raw = isJson ? JSON.parse(text) : parseYaml(text, { merge: true });
  } catch (err) {
    // The YAML parser recurses per nesting level: a file nested thousands deep overflows it.
    if (err instanceof RangeError || /Maximum call stack size exceeded/.test(String((err as Error).message))) throw Errors.CONFIG(`${path}: ${tooDeepProblem()}`);
    throw Errors.CONFIG(`${path}: invalid ${isJson ? 'JSON' : 'YAML'}: ${(err as Error).message.trimEnd()}`);
  }
  checkDepth(raw, path);
  if (!isJson && collectGarbage !== undefined && text.length >= RECREATE_MIN_BYTES) {
    const json = plainJson(raw);
    if (json !== null) {
      raw = null;
      collectGarbage();
      raw = JSON.parse(json);
    }
  }
  return raw;
}

/** The JSON text of a parsed tree, or null when JSON would not give the same values back. */
function plainJson(tree: unknown): string | null {
  let plain = true;
  const json = JSON.stringify(tree, (_key, value: unknown) => {
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || Object.is(value, -0)) plain = false;
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) plain = false;
    }
    return value;
  });
  return plain ? json : null;
}

function checkDepth(raw: unknown, file: string | null): void {
  const deep = tooDeep(raw);
  if (deep !== null) throw Errors.CONFIG(`${file === null ? '' : `${file}: `}${deep.field}: ${tooDeepProblem()}`);
}

import type { AdminAuth } from '../client/types.js';
import { parseDuration } from '../core/duration.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage-error.js';

export const DEFAULT_ADMIN_URL = 'http://localhost:9080';
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

/** The global flags, as given before the command, with the environment filled in. */
export interface GlobalOptions {
  adminUrl: string;
  /** `--auth user` without a password: the password is asked for on the terminal */
  auth: AdminAuth | { username: string; password: null } | undefined;
  follow: boolean;
  verbose: boolean;
  /** `--wait-all`: after the command's writes, wait until every node of the cluster has applied them */
  waitAll: boolean;
  /** `--wait-timeout`: how long --wait-all waits */
  waitTimeoutMs: number;
  help: boolean;
  version: boolean;
}

type ValueFlag = 'admin' | 'auth' | 'key' | 'key-header' | 'wait-timeout';
type SwitchFlag = 'follow' | 'verbose' | 'help' | 'version' | 'wait-all';

const SHORT: Readonly<Record<string, ValueFlag | SwitchFlag>> = { a: 'auth', f: 'follow', V: 'verbose', h: 'help', v: 'version' };
const VALUE_FLAGS: ReadonlySet<string> = new Set<ValueFlag>(['admin', 'auth', 'key', 'key-header', 'wait-timeout']);
const SWITCH_FLAGS: ReadonlySet<string> = new Set<SwitchFlag>(['follow', 'verbose', 'help', 'version', 'wait-all']);

/**
 * Reads the global flags at the start of `argv` (up to the first word that is not a flag) and
 * returns them with the rest of the arguments. Short flags combine (`-Vf`, `-Va user:pass`);
 * long ones take `--flag value` or `--flag=value`. A flag wins over its environment variable:
 * DGATE_ADMIN_API, DGATE_ADMIN_AUTH, DGATE_ADMIN_KEY (+ DGATE_ADMIN_KEY_HEADER), DGATE_FOLLOW_REDIRECTS.
 */
export function parseGlobalOptions(argv: readonly string[], env: CliIo['env']): { options: GlobalOptions; rest: string[] } {
  const values: Partial<Record<ValueFlag, string>> = {};
  const switches = new Set<SwitchFlag>();
  let i = 0;
  const take = (flag: ValueFlag, inline: string | undefined, shown: string) => {
    if (inline !== undefined) return (values[flag] = inline);
    const next = argv[i + 1];
    if (next === undefined) throw new UsageError(`flag ${shown} needs a value`);
    i++;
    values[flag] = next;
  };

  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      if (VALUE_FLAGS.has(name)) take(name as ValueFlag, inline, `--${name}`);
      else if (SWITCH_FLAGS.has(name) && inline === undefined) switches.add(name as SwitchFlag);
      else throw new UsageError(`unknown flag: ${arg}`);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let c = 1; c < arg.length; c++) {
        const flag = SHORT[arg[c]!];
        if (flag === undefined) throw new UsageError(`unknown flag: -${arg[c]}${arg.length > 2 ? ` (in ${arg})` : ''}`);
        if (VALUE_FLAGS.has(flag)) {
          // the rest of the cluster is the value ("-auser:pass"), else the next argument
          take(flag as ValueFlag, c + 1 < arg.length ? arg.slice(c + 1) : undefined, `-${arg[c]}`);
          break;
        }
        switches.add(flag as SwitchFlag);
      }
      continue;
    }
    break;
  }

  const options: GlobalOptions = {
    adminUrl: adminUrl(values.admin ?? nonEmpty(env.DGATE_ADMIN_API) ?? DEFAULT_ADMIN_URL),
    auth: auth(values, env),
    follow: switches.has('follow') || envBool(env, 'DGATE_FOLLOW_REDIRECTS'),
    verbose: switches.has('verbose'),
    waitAll: switches.has('wait-all'),
    waitTimeoutMs: values['wait-timeout'] === undefined ? DEFAULT_WAIT_TIMEOUT_MS : waitTimeout(values['wait-timeout']),
    help: switches.has('help'),
    version: switches.has('version'),
  };
  return { options, rest: argv.slice(i) };
}

/** `http://` is assumed when the URL has no scheme ("localhost:9080"); a trailing "/" is dropped. */
function adminUrl(raw: string): string {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--admin: not a URL: ${raw}`);
  }
  return url.replace(/\/+$/, '');
}

function auth(values: Partial<Record<ValueFlag, string>>, env: CliIo['env']): GlobalOptions['auth'] {
  // a flag beats the environment, even the environment variable of the other method
  let basic = values.auth;
  let key = values.key;
  if (basic === undefined && key === undefined) {
    basic = nonEmpty(env.DGATE_ADMIN_AUTH);
    key = nonEmpty(env.DGATE_ADMIN_KEY);
  }
  if (basic !== undefined && key !== undefined) throw new UsageError('give --auth (basic) or --key, not both');
  if (key !== undefined) {
    const header = values['key-header'] ?? nonEmpty(env.DGATE_ADMIN_KEY_HEADER);
    return header === undefined ? { key } : { key, header };
  }
  if (basic === undefined) return undefined;
  const colon = basic.indexOf(':');
  const username = colon < 0 ? basic : basic.slice(0, colon);
  if (username === '') throw new UsageError('--auth: the user name is missing (give user:password)');
  return { username, password: colon < 0 ? null : basic.slice(colon + 1) };
}

/** A Go-style duration ("30s", "1m30s", "500ms") in milliseconds; more than zero. */
function waitTimeout(raw: string): number {
  const ns = parseDuration(raw);
  if (ns === null || ns <= 0) throw new UsageError(`--wait-timeout: expected a duration such as 30s, 2m or 500ms, got "${raw}"`);
  return Math.max(1, Math.round(ns / 1e6));
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** Go's strconv.ParseBool words, as DGate's CLI read its boolean environment variables. */
function envBool(env: CliIo['env'], name: string): boolean {
  const v = nonEmpty(env[name]);
  if (v === undefined) return false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new UsageError(`${name}: expected true or false, got "${v}"`);
}

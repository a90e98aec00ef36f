/**
 * Which runtime dgate-server runs on: `--runtime node|bun` on the command line, else the config
 * key `runtime`, else Bun when the `bun` package is installed and Node otherwise. When the
 * chosen runtime is not the one running, the server is started again on it (see relaunch).
 */
import { spawn } from 'node:child_process';
import { parserHeadLimit, withBunHeadLimit } from './parser-head-limit.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Errors } from '../core/errors.js';
import { runtimeName, type RuntimeName } from './runtime.js';

export type RuntimeChoice = 'auto' | RuntimeName;

/** Set in the environment of a relaunched server, so that it never relaunches again. */
const RELAUNCHED = 'DGATE_RUNTIME_RELAUNCHED';

/** The Bun executable of the installed `bun` npm package, or null when it is not installed. */
export function installedBun(): string | null {
  try {
    const pkgFile = createRequire(import.meta.url).resolve('bun/package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { bin?: Record<string, string> | string };
    const rel = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.['bun'];
    if (rel === undefined) return null;
    const exe = join(dirname(pkgFile), rel);
    return existsSync(exe) ? exe : null;
  } catch {
    return null;
  }
}

export interface RuntimeTarget {
  name: RuntimeName;
  /** executable to start the server on, null = the running process already is that runtime */
  executable: string | null;
}

/** Resolves a choice to a runtime and how to get there. Throws Errors.CONFIG when a forced runtime is missing. */
export function resolveRuntime(choice: RuntimeChoice, env: NodeJS.ProcessEnv = process.env): RuntimeTarget {
  if (env[RELAUNCHED] === '1') return { name: runtimeName, executable: null };
  const name: RuntimeName = choice === 'auto' ? (runtimeName === 'bun' || installedBun() !== null ? 'bun' : 'node') : choice;
  if (name === runtimeName) return { name, executable: null };
  if (name === 'bun') {
    const exe = installedBun();
    if (exe === null) throw Errors.CONFIG('runtime: bun was asked for but the bun package is not installed (npm install bun)');
    return { name, executable: exe };
  }
  return { name, executable: 'node' };
}

/**
 * Runs this script again on another runtime, with the same arguments, environment and standard
 * streams, forwards SIGINT/SIGTERM to it and exits with its exit code. Resolves never.
 */
export function relaunch(executable: string, script: string, argv: readonly string[]): Promise<never> {
  releaseHeap();
  return new Promise(() => {
    // The child's stdin is a pipe from this process: its end tells the child this process is gone.
    const child = spawn(executable, [script, ...argv], { stdio: ['pipe', 'inherit', 'inherit'], env: { ...withBunHeadLimit(process.env, parserHeadLimit()), [RELAUNCHED]: '1' } });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
    child.on('error', (err) => {
      process.stderr.write(`dgate-server: cannot start ${executable}: ${err.message}\n`);
      process.exit(1);
    });
    child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128 + (signalNumber(signal) ?? 0))));
  });
}

/**
 * A full collection now, to give back the memory of a start-up peak that will not come again:
 * parsing a 10,000-route YAML file grows the heap by ~100 MB of short-lived objects, which the
 * runtime would otherwise keep mapped for the life of the process (the launcher before it only
 * waits for the relaunched server; a server once its state is loaded and applied).
 */
export function releaseHeap(): void {
  try {
    const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
    if (bun !== undefined) bun.gc(true);
    else {
      setFlagsFromString('--expose-gc');
      (runInNewContext('gc') as () => void)();
    }
  } catch {
    // only memory is at stake
  }
}

/** Quiet time after the last collectWhenIdle call before the collection runs. */
const IDLE_COLLECTION_MS = 1500;
/** While calls keep coming, a collection at least this often. */
const BUSY_COLLECTION_MS = 10_000;

let idleTimer: NodeJS.Timeout | null = null;
/** when the first call since the last collection came (0: none pending) */
let pendingSince = 0;

/**
 * A full collection once the process is quiet (no call for 1.5 s), or every 10 s while calls keep
 * coming: for garbage made by work that comes in bursts. Bun leaves such garbage for long: the
 * primary of a node on etcd with 10,000 routes grew from 130 to 160-230 MB over 800-2,000 admin
 * writes and stayed there while idle (a non-blocking `Bun.gc(false)` after each local snapshot
 * changed nothing measurable); a full collection brings it back to 134-140 MB. It holds the event
 * loop for 40-150 ms with that state (measured on a loaded 2-core machine), hence only when quiet
 * or rarely. Nothing on Node, whose generational collector reclaims such garbage at once.
 */
export function collectWhenIdle(): void {
  if ((globalThis as { Bun?: unknown }).Bun === undefined) return;
  const now = Date.now();
  if (pendingSince === 0) pendingSince = now;
  if (idleTimer !== null) clearTimeout(idleTimer);
  idleTimer = null;
  if (now - pendingSince >= BUSY_COLLECTION_MS) {
    collectPending();
    return;
  }
  idleTimer = setTimeout(collectPending, IDLE_COLLECTION_MS);
  idleTimer.unref();
}

function collectPending(): void {
  idleTimer = null;
  pendingSince = 0;
  releaseHeap();
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal];
}

/**
 * In a relaunched server: when the process that started it disappears without stopping it first
 * (it was killed with SIGKILL), this one goes the same way instead of running on unattended.
 */
export function followLauncher(env: NodeJS.ProcessEnv = process.env): void {
  if (env[RELAUNCHED] !== '1') return;
  process.stdin.on('error', () => undefined);
  process.stdin.once('end', () => process.kill(process.pid, 'SIGKILL'));
  process.stdin.resume();
}

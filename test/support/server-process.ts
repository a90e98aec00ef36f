/** Runs the real `dgate-server` binary as a child process, with a config file in a temp dir. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtimeName } from '../../src/platform/runtime.js';
import { Agent, request } from './http.js';

export const SERVER_BIN = fileURLToPath(new URL('../../src/bin/dgate-server.js', import.meta.url));

/** Ports this process handed out: never twice. */
const handedOut = new Set<number>();

/**
 * A port that was free a moment ago, for a server another process starts. Picked at random below
 * the kernel's ephemeral range (32768-60999 by default), where no outgoing connection and no
 * port-0 listener of the tests running beside can take it before that server binds it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no free port found below the ephemeral range');
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export interface ServerProcess {
  child: ChildProcess;
  dir: string;
  proxyUrl: string;
  adminUrl: string;
  output: () => string;
  /** resolves with the exit code (or signal) */
  exited: Promise<number | string>;
}

export function tempDir(prefix = 'dgate-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts dgate-server with the given YAML config text (ports filled in) and waits for /readyz. */
export async function startServerProcess(opts: {
  dir?: string;
  yaml: (ports: { proxy: number; admin: number; dir: string }) => string;
  waitReady?: boolean;
  /** extra environment variables for the server (and its workers) */
  env?: Record<string, string>;
}): Promise<ServerProcess> {
  const dir = opts.dir ?? tempDir();
  const ports = { proxy: await freePort(), admin: await freePort(), dir };
  const file = join(dir, 'config.yaml');
  writeFileSync(file, opts.yaml(ports));
  // On the runtime the tests run on (dgate-server would otherwise pick Bun when it is installed).
  const child = spawn(process.execPath, [SERVER_BIN, '--config', file, '--runtime', runtimeName], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const proc: ServerProcess = { child, dir, proxyUrl: `http://127.0.0.1:${ports.proxy}`, adminUrl: `http://127.0.0.1:${ports.admin}`, output: () => out, exited };
  if (opts.waitReady !== false) await waitReady(proc);
  return proc;
}

export async function waitReady(proc: ServerProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: number | string | null = null;
  proc.exited.then((c) => (exitedWith = c));
  while (Date.now() < deadline) {
    if (exitedWith !== null) throw new Error(`dgate-server exited (${exitedWith}) before it was ready:\n${proc.output()}`);
    try {
      const res = await request(`${proc.adminUrl}/readyz`);
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`dgate-server not ready after ${timeoutMs} ms:\n${proc.output()}`);
}

export async function stop(proc: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
  return proc.exited;
}

export async function putJson(adminUrl: string, kind: string, body: unknown): Promise<number> {
  const res = await request(`${adminUrl}/api/v1/${kind}`, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  await res.body.dump();
  return res.statusCode;
}

/** Process ids of a server's child processes (its proxy workers), read from /proc. */
export function childPids(proc: ServerProcess): number[] {
  const pid = proc.child.pid!;
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** Status of one proxied GET on a connection of its own (so successive requests may reach different workers). */
export async function statusOnNewConnection(proc: ServerProcess, path: string): Promise<number> {
  const agent = new Agent({ pipelining: 0 });
  try {
    const res = await request(proc.proxyUrl + path, { dispatcher: agent, headers: { connection: 'close' } });
    await res.body.dump();
    return res.statusCode;
  } finally {
    await agent.close();
  }
}

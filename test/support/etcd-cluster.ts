/**
 * Real etcd members (Debian's `etcd` binary) on free loopback ports, for tests. Each member can
 * be stopped (SIGTERM or SIGKILL) and started again with its data kept, to produce the faults a
 * cluster meets: a member down, quorum lost, all of etcd down and back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server-process.js';

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  child: ChildProcess | null;
  output: string;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** client URLs of every member, for `storage.endpoints` */
  readonly endpoints: string[];
  /** stops one member (SIGKILL by default: the member vanishes as in a crash) */
  stop(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** starts a stopped member again with its data; resolves once it answers /health */
  start(index: number): Promise<void>;
  stopAll(signal?: NodeJS.Signals): Promise<void>;
  /** starts every stopped member; resolves once the cluster has a leader again */
  startAll(): Promise<void>;
  close(): Promise<void>;
}

const ETCD_BIN = process.env.ETCD_BIN ?? 'etcd';

async function healthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return res.ok && body.health === 'true';
  } catch {
    return false;
  }
}

async function waitHealthy(members: readonly EtcdMember[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await Promise.all(members.map((m) => healthy(m.clientUrl)));
    if (up.every(Boolean)) return;
    for (const m of members) {
      if (m.child === null || m.child.exitCode !== null) throw new Error(`etcd member ${m.name} exited:\n${m.output.slice(-2000)}`);
    }
    if (Date.now() > deadline) throw new Error(`etcd not healthy after ${timeoutMs} ms:\n${members.map((m) => m.output.slice(-1000)).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Where members keep their data: memory-backed /dev/shm when the machine has it, so that etcd's
 * fsyncs cost nothing and a busy disk cannot stall a member for seconds; the temp folder otherwise.
 */
function dataRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** Starts an etcd cluster of `size` members (1 or 3 usually) and waits until it serves. */
export async function startEtcdCluster(opts: { size?: number } = {}): Promise<EtcdCluster> {
  const size = opts.size ?? 3;
  const root = mkdtempSync(join(dataRoot(), 'dgate-etcd-'));
  const members: EtcdMember[] = [];
  for (let i = 0; i < size; i++) {
    members.push({
      name: `m${i}`,
      clientUrl: `http://127.0.0.1:${await freePort()}`,
      peerUrl: `http://127.0.0.1:${await freePort()}`,
      dataDir: join(root, `m${i}`),
      child: null,
      output: '',
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const token = `dgate-test-${process.pid}-${Date.now()}`;

  const launch = (m: EtcdMember) => {
    const child = spawn(
      ETCD_BIN,
      [
        '--name', m.name,
        '--data-dir', m.dataDir,
        '--listen-client-urls', m.clientUrl,
        '--advertise-client-urls', m.clientUrl,
        '--listen-peer-urls', m.peerUrl,
        '--initial-advertise-peer-urls', m.peerUrl,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', token,
        // short timers keep elections quick on loopback
        '--heartbeat-interval', '50',
        '--election-timeout', '500',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    m.output = '';
    child.stdout!.on('data', (d) => (m.output += d));
    child.stderr!.on('data', (d) => (m.output += d));
    m.child = child;
  };

  const stopMember = async (m: EtcdMember, signal: NodeJS.Signals) => {
    const child = m.child;
    if (child === null) return;
    m.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  };

  for (const m of members) launch(m);
  try {
    await waitHealthy(members, 20_000);
  } catch (err) {
    await Promise.all(members.map((m) => stopMember(m, 'SIGKILL')));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }

  return {
    members,
    endpoints: members.map((m) => m.clientUrl),
    async stop(index, signal = 'SIGKILL') {
      await stopMember(members[index], signal);
    },
    async start(index) {
      const m = members[index];
      if (m.child === null) launch(m);
      const others = members.filter((o) => o.child !== null);
      // a lone restarted member is healthy only once a quorum is back
      if (others.length * 2 > members.length) await waitHealthy(others, 20_000);
    },
    async stopAll(signal = 'SIGKILL') {
      await Promise.all(members.map((m) => stopMember(m, signal)));
    },
    async startAll() {
      for (const m of members) if (m.child === null) launch(m);
      await waitHealthy(members, 20_000);
    },
    async close() {
      await Promise.all(members.map((m) => stopMember(m, 'SIGKILL')));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Entry point of a proxy worker process (forked by workers/primary.ts through node:cluster).
 * It follows the primary's state over IPC — a snapshot first, then every batch in order — and
 * serves the proxy port from a runtime table updated per revision (only what a batch touches is
 * rebuilt). It starts listening only once it holds the current state, so it never serves an
 * older revision than its siblings.
 */
import type { Change } from '../core/change.js';
import { GatewayError } from '../core/errors.js';
import { State } from '../core/state.js';
import { createLogger } from '../observability/log.js';
import { installProcessGuards } from '../observability/process-guards.js';
import type { LogLevel } from '../config/config.js';
import { DataPlane } from '../proxy/data-plane.js';
import type { FromWorker, ToWorker } from './messages.js';

let plane: DataPlane | null = null;
let state: State | null = null;
let listening = false;
/** settles once the listener is bound: a revision is acknowledged only once connections can reach it */
let bound: Promise<unknown> = new Promise(() => {});
let nextWriteId = 1;
const pendingWrites = new Map<number, { resolve: (rev: number) => void; reject: (err: Error) => void }>();
/** writes answered by the primary, waiting for this worker to reach their revision */
const revWaiters: Array<{ rev: number; resolve: () => void }> = [];

/** Module writes go to the primary (the single write path); resolves once this worker serves them. */
async function write(build: (s: State) => Change[]): Promise<State> {
  const changes = build(state!);
  if (changes.length === 0) return state!;
  const id = nextWriteId++;
  const rev = await new Promise<number>((resolve, reject) => {
    pendingWrites.set(id, { resolve, reject });
    send({ t: 'write', id, changes });
  });
  if (state!.rev < rev) await new Promise<void>((resolve) => revWaiters.push({ rev, resolve }));
  return state!;
}

function reached(rev: number): void {
  for (let i = revWaiters.length - 1; i >= 0; i--) {
    if (revWaiters[i].rev <= rev) {
      revWaiters[i].resolve();
      revWaiters.splice(i, 1);
    }
  }
}

/** Acknowledges a revision to the primary once this worker's listener is bound. */
function ack(rev: number): void {
  void bound.then(() => send({ t: 'ack', rev }), () => {});
}

function send(m: FromWorker): void {
  process.send?.(m);
}

/**
 * Test tooling: a worker started with DGATE_TEST_FAIL_APPLY_AT_REV=N fails to apply any batch
 * that contains revision N (as if its table could not be built), so tests can watch it being
 * replaced. Snapshots are never failed, so the replacement starts normally.
 */
const failAtRev = Number(process.env.DGATE_TEST_FAIL_APPLY_AT_REV ?? Number.NaN);

/**
 * Applies a state, or, when it cannot be built, stops accepting connections and tells the
 * primary, which replaces this worker; it never acknowledges a revision it does not serve.
 */
function apply(next: State, full: boolean, from: number): boolean {
  try {
    if (!full && failAtRev > from && failAtRev <= next.rev) throw new Error(`DGATE_TEST_FAIL_APPLY_AT_REV: refusing revision ${failAtRev}`);
    plane!.apply(next, full);
    state = next;
    return true;
  } catch (err) {
    plane!.stopAccepting();
    send({ t: 'failed', rev: next.rev, error: String((err as Error).stack ?? err) });
    return false;
  }
}

process.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'init':
      {
        const logger = createLogger({ level: m.logLevel as LogLevel, nodeId: m.nodeId }).child({ worker: process.pid });
        installProcessGuards(logger);
        plane = new DataPlane(m.options, { logger, write });
      }
      break;
    case 'written':
      pendingWrites.get(m.id)?.resolve(m.rev);
      pendingWrites.delete(m.id);
      break;
    case 'write-failed':
      pendingWrites.get(m.id)?.reject(new GatewayError(m.code, m.status, m.message));
      pendingWrites.delete(m.id);
      break;
    case 'snapshot':
      if (!apply(State.fromItems(m.rev, m.items), true, -1)) break;
      if (!listening) {
        listening = true;
        const listen = plane!.listen();
        bound = listen;
        listen.then(
          (port) => send({ t: 'listening', port, tlsPort: plane!.tlsPort }),
          (err) => {
            send({ t: 'failed', rev: null, error: `proxy listen: ${(err as Error).message}` });
            process.exit(1);
          },
        );
      }
      ack(m.rev);
      reached(m.rev);
      break;
    case 'batch':
      if (state !== null && m.rev <= state.rev) {
        ack(state.rev); // already in the snapshot it started from
        break;
      }
      if (state === null || m.from !== state.rev) {
        send({ t: 'resync', rev: state?.rev ?? -1 });
        break;
      }
      if (!apply(state.applyChanges(m.changes, m.rev), false, m.from)) break;
      ack(m.rev);
      reached(m.rev);
      break;
  }
});

process.on('disconnect', () => process.exit(0));

/** Time a stopping worker gives requests in flight before it exits anyway. */
const DRAIN_MS = 10_000;

// Stopping (the primary shuts down): stop accepting, let requests in flight finish, then exit.
process.once('SIGTERM', () => {
  setTimeout(() => process.exit(0), DRAIN_MS).unref();
  (plane?.close() ?? Promise.resolve()).then(
    () => process.exit(0),
    () => process.exit(0),
  );
});
// Messages sent before the listener above existed would be lost: ask for the state only now.
send({ t: 'hello' });

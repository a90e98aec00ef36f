/**
 * Entry point of a proxy worker process (forked by workers/primary.ts through node:cluster).
 * It follows the primary's state over IPC — a snapshot first, then every batch in order — and
 * serves the proxy port from a runtime table rebuilt per revision. It starts listening only
 * once it holds the current state, so it never serves an older revision than its siblings.
 */
import { State } from '../core/state.js';
import { DataPlane } from '../proxy/data-plane.js';
import type { FromWorker, ToWorker } from './messages.js';

let plane: DataPlane | null = null;
let state: State | null = null;
let listening = false;

function send(m: FromWorker): void {
  process.send?.(m);
}

function apply(next: State): void {
  try {
    plane!.apply(next);
    state = next;
  } catch (err) {
    // The primary checks every state before committing it, so this means a bug: keep serving the old table.
    send({ t: 'failed', error: String((err as Error).stack ?? err) });
  }
}

process.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'init':
      plane = new DataPlane(m.options);
      break;
    case 'snapshot':
      apply(State.fromItems(m.rev, m.items));
      send({ t: 'ack', rev: m.rev });
      if (!listening) {
        listening = true;
        plane!.listen().then(
          (port) => send({ t: 'listening', port }),
          (err) => {
            send({ t: 'failed', error: `proxy listen: ${(err as Error).message}` });
            process.exit(1);
          },
        );
      }
      break;
    case 'batch':
      if (state === null || m.rev !== state.rev + 1) {
        send({ t: 'resync', rev: state?.rev ?? -1 });
        break;
      }
      apply(state.applyChanges(m.changes, m.rev));
      send({ t: 'ack', rev: m.rev });
      break;
  }
});

process.on('disconnect', () => process.exit(0));
// Messages sent before the listener above existed would be lost: ask for the state only now.
send({ t: 'hello' });

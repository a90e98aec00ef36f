/**
 * The watchdog thread (see watchdog.ts). It shares two integers with the main thread: a
 * heartbeat counter and the id of the route whose module code is running (0 = none).
 */
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { shared, limitMs, kill } = workerData as { shared: SharedArrayBuffer; limitMs: number; kill: boolean };
const view = new Int32Array(shared);
let names: Record<number, string> = {};
parentPort!.on('message', (m: Record<number, string>) => {
  names = { ...names, ...m };
});

let lastBeat = Atomics.load(view, 0);
let lastChange = Date.now();
let reported = false;
/** how many times the limit a stall outside any hook call must last before it counts */
const OUTSIDE_MODULE_FACTOR = 10;

setInterval(() => {
  const beat = Atomics.load(view, 0);
  const now = Date.now();
  if (beat !== lastBeat) {
    lastBeat = beat;
    lastChange = now;
    reported = false;
    return;
  }
  if (now - lastChange < limitMs || reported) return;
  const id = Atomics.load(view, 1);
  // Outside module code a stall is the machine's (CPU starvation, a long GC): a healthy worker is
  // not replaced for it unless it lasts far longer (module timers run outside hook scopes too).
  if (id === 0 && now - lastChange < limitMs * OUTSIDE_MODULE_FACTOR) return;
  reported = true;
  const where = id === 0 ? null : JSON.parse(names[id] ?? 'null');
  const line = {
    level: 'error',
    time: new Date().toISOString(),
    pid: process.pid,
    stalled_ms: now - lastChange,
    ...(where ?? { route: null }),
    msg: kill
      ? 'event loop stuck (endless loop in module code?); replacing this proxy worker'
      : 'event loop stuck (endless loop in module code?); not replaced because the proxy runs in the main process (proxy.workers: 0)',
  };
  writeSync(1, JSON.stringify(line) + '\n');
  if (kill) process.kill(process.pid, 'SIGKILL');
}, Math.max(10, Math.floor(limitMs / 10)));

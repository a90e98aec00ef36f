/**
 * Proxy worker processes: a change is live in every worker when the admin write answers, and a
 * worker that dies is replaced while the others keep serving.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { after, before, it } from 'node:test';
import { request } from './support/http.js';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { childPids, putJson, startServerProcess, statusOnNewConnection, stop, type ServerProcess } from './support/server-process.js';

let echo: EchoServer;
let server: ServerProcess;
const echoEvents = new EventEmitter();
before(async () => {
  echo = await startEchoServer({ onSleep: (path) => echoEvents.emit('sleep', path) });
  server = await startServerProcess({
    yaml: (p) => `
log_level: warn
storage: { type: memory }
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 2 }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
  });
  assert.equal(await putJson(server.adminUrl, 'service', { name: 'echo', urls: [echo.url] }), 201);
});
after(async () => {
  await stop(server);
  await echo.close();
});

/** GETs over fresh connections, so the kernel spreads them over the workers. */
const statusOf = (path: string) => statusOnNewConnection(server, path);

it('serves a route from every worker as soon as the write answers', async () => {
  for (let i = 0; i < 10; i++) {
    assert.equal(await putJson(server.adminUrl, 'route', { name: `r${i}`, paths: [`/r/${i}`], methods: ['GET'], service: 'echo' }), 201);
    const statuses = await Promise.all(Array.from({ length: 8 }, () => statusOf(`/r/${i}`)));
    assert.deepEqual(statuses, Array(8).fill(200), `route ${i}`);
  }
});

async function waitGone(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} still there after SIGKILL`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const workerPids = () => childPids(server);

it('replaces a worker killed with SIGKILL while the others keep serving', async () => {
  const children = workerPids();
  assert.equal(children.length, 2, 'two worker processes');
  process.kill(children[0], 'SIGKILL');
  // Once it is gone (on Bun each worker has its own SO_REUSEPORT socket: connections the kernel
  // had already queued on the killed worker's socket are reset with it), requests keep
  // succeeding while the worker is replaced.
  await waitGone(children[0]);
  for (let i = 0; i < 20; i++) assert.equal(await statusOf('/r/1'), 200);
  const deadline = Date.now() + 10_000;
  let now: number[] = [];
  while (Date.now() < deadline) {
    now = workerPids();
    if (now.length === 2 && !now.includes(children[0])) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(now.length, 2, 'a new worker was started');
  assert.ok(!now.includes(children[0]));
  // The new worker has the current state, including a route written after it started.
  assert.equal(await putJson(server.adminUrl, 'route', { name: 'late', paths: ['/late'], methods: ['GET'], service: 'echo' }), 201);
  const statuses = await Promise.all(Array.from({ length: 10 }, () => statusOf('/late')));
  assert.deepEqual(statuses, Array(10).fill(200));
});

it('finishes requests in flight when it is stopped with SIGTERM', async () => {
  const stopping = await startServerProcess({
    yaml: (p) => `
log_level: warn
storage: { type: memory }
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 1 }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
  });
  assert.equal(await putJson(stopping.adminUrl, 'service', { name: 'echo', urls: [echo.url] }), 201);
  assert.equal(await putJson(stopping.adminUrl, 'route', { name: 'slow', paths: ['/slow'], methods: ['GET'], service: 'echo' }), 201);
  const atUpstream = once(echoEvents, 'sleep');
  const inFlight = request(`${stopping.proxyUrl}/slow?wait=700ms`).then(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as any }));
  await atUpstream;
  stopping.child.kill('SIGTERM');
  const answer = await inFlight;
  assert.equal(answer.status, 200);
  assert.equal(answer.body.data.waited, '700ms');
  assert.equal(await stopping.exited, 0);
});

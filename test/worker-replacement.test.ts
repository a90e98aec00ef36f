/**
 * A proxy worker that cannot apply a revision never acknowledges it: it stops accepting
 * connections and is replaced by a worker started from the current state, and the write is
 * answered only once every worker serves it. The failure is forced with the worker's test hook
 * DGATE_TEST_FAIL_APPLY_AT_REV (every worker refuses the batch holding that revision; snapshots
 * are never refused, so the replacements start normally).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { childPids, putJson, startServerProcess, statusOnNewConnection, stop, type ServerProcess } from './support/server-process.js';

let echo: EchoServer;
let server: ServerProcess;
/** revisions: 1 the default namespace (start-up), 2 the service, 3 the route below */
const FAILING_REV = 3;

before(async () => {
  echo = await startEchoServer();
  server = await startServerProcess({
    env: { DGATE_TEST_FAIL_APPLY_AT_REV: String(FAILING_REV) },
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

const workerPids = () => childPids(server);

const statusOf = (path: string) => statusOnNewConnection(server, path);

it('replaces the workers that cannot apply a revision and answers the write only once the replacements serve it', async () => {
  const before = workerPids();
  assert.equal(before.length, 2);
  assert.equal(await putJson(server.adminUrl, 'route', { name: 'r', paths: ['/r'], methods: ['GET'], service: 'echo' }), 201);
  // Answered: every process that takes connections serves the route.
  const statuses = await Promise.all(Array.from({ length: 12 }, () => statusOf('/r')));
  assert.deepEqual(statuses, Array(12).fill(200));
  assert.match(server.output(), /could not apply a revision; replacing it/);
  const now = workerPids().filter((p) => !before.includes(p));
  assert.ok(now.length >= 2, `two new workers (before ${before}, now ${workerPids()})`);
  // The replacements follow later writes as usual.
  assert.equal(await putJson(server.adminUrl, 'route', { name: 'r2', paths: ['/r2'], methods: ['GET'], service: 'echo' }), 201);
  assert.deepEqual(await Promise.all(Array.from({ length: 8 }, () => statusOf('/r2'))), Array(8).fill(200));
});

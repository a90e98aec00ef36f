/**
 * Module code that leaves errors behind (a rejected promise nobody awaits, a timer callback that
 * throws) must not take the gateway down. Run against the real dgate-server binary, with the proxy
 * in the main process and in a worker process, so that a crash would show.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { request } from './support/http.js';
import { REFUSING_URL } from './support/refusing.js';
import { putJson, startServerProcess, stop, type ServerProcess } from './support/server-process.js';
import { until } from './support/until.js';

// refused at once on every runtime (see support/refusing.ts)
const REFUSED_URL = `${REFUSING_URL}/`;

const LEFTOVERS = `export function requestHandler(ctx: any) {
  const how = ctx.query().get('how');
  if (how === 'reject') Promise.reject(new Error('floating rejection'));
  if (how === 'then') Promise.resolve().then(() => { throw new Error('then callback throw'); });
  if (how === 'fetch') fetch(${JSON.stringify(REFUSED_URL)});
  if (how === 'timer') setTimeout(() => { throw new Error('timer callback throw'); }, 5);
  if (how === 'async-timer') setTimeout(async () => { await null; throw new Error('async timer callback throw'); }, 5);
  if (how === 'interval') { const id = setInterval(() => { clearInterval(id); throw new Error('interval callback throw'); }, 5); }
  if (how === 'microtask') queueMicrotask(() => { throw new Error('microtask throw'); });
  if (how === 'log') { console.log('visible %d', 42, { nested: { ok: true } }); console.debug('hidden debug line'); }
  ctx.response().json({ how });
}
`;

const HOWS = ['reject', 'then', 'fetch', 'timer', 'async-timer', 'interval', 'microtask'];

async function get(base: string, path: string): Promise<{ status: number; text: string }> {
  const res = await request(base + path, { signal: AbortSignal.timeout(5000), headers: { connection: 'close' } });
  return { status: res.statusCode, text: await res.body.text() };
}

const STATE = `import { addDocument, getDocument } from 'dgate/state';
export async function requestHandler(ctx: any) {
  const id = ctx.pathParam('id');
  await addDocument({ id, collection: 'notes', data: { text: 'note ' + id } });
  const doc: any = await getDocument(id, 'notes');
  ctx.response().status(201).json(doc === null ? null : doc.data);
}
`;

async function setUp(server: ServerProcess): Promise<void> {
  const payload = Buffer.from(LEFTOVERS).toString('base64');
  assert.equal(await putJson(server.adminUrl, 'module', { name: 'leftovers', payload }), 201);
  assert.equal(await putJson(server.adminUrl, 'route', { name: 'leftovers', paths: ['/leftovers'], methods: ['GET'], modules: ['leftovers'] }), 201);
  assert.equal(await putJson(server.adminUrl, 'collection', { name: 'notes' }), 201);
  assert.equal(await putJson(server.adminUrl, 'module', { name: 'notes', payload: Buffer.from(STATE).toString('base64') }), 201);
  assert.equal(await putJson(server.adminUrl, 'route', { name: 'notes', paths: ['/notes/{id}'], methods: ['POST'], modules: ['notes'] }), 201);
}

function childPids(server: ServerProcess): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(server.child.pid)], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

for (const workers of [0, 1]) {
  describe(`leftover errors of module code (proxy workers: ${workers})`, { timeout: 60_000 }, () => {
    let server: ServerProcess;
    let exited: number | string | null = null;

    before(async () => {
      server = await startServerProcess({
        yaml: (p) => `
log_level: info
storage: { type: memory }
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: ${workers} }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
      });
      server.exited.then((code) => (exited = code));
      await setUp(server);
    });
    after(async () => {
      if (server !== undefined) await stop(server);
    });

    it('an unhandled rejection or a throwing timer callback in module code does not end the gateway', async () => {
      const pidsBefore = childPids(server);
      const errorLines = () => server.output().split('\n').filter((l) => /unhandled promise rejection|uncaught error in/.test(l)).length;
      for (const how of HOWS) {
        const logged = errorLines();
        const r = await get(server.proxyUrl, `/leftovers?how=${how}`);
        assert.equal(r.status, 200, `${how}: ${r.text}`);
        await until(() => errorLines() > logged || exited !== null, `the error left by "${how}" to be logged`);
        assert.equal(exited, null, `the gateway exited after "${how}":\n${server.output().slice(-2000)}`);
        const again = await get(server.proxyUrl, '/leftovers?how=none');
        assert.equal(again.status, 200, `still answering after "${how}"`);
      }
      assert.deepEqual(childPids(server), pidsBefore, `no worker process was replaced:\n${server.output().slice(-2000)}`);
      const admin = await get(server.adminUrl, '/readyz');
      assert.equal(admin.status, 200);
    });

    it('a document a module writes is readable by the same request and through the admin API', async () => {
      for (const id of ['n1', 'n2', 'n3']) {
        const res = await request(`${server.proxyUrl}/notes/${id}`, { method: 'POST', signal: AbortSignal.timeout(5000) });
        const text = await res.body.text();
        assert.equal(res.statusCode, 201, text);
        assert.deepEqual(JSON.parse(text), { text: `note ${id}` });
        const stored = await get(server.adminUrl, `/api/v1/document/${id}?collection=notes`);
        assert.equal(stored.status, 200, stored.text);
        assert.deepEqual(JSON.parse(stored.text).data.data, { text: `note ${id}` });
      }
    });

    it('console output of module code reaches the server log, filtered by level', async () => {
      const r = await get(server.proxyUrl, '/leftovers?how=log');
      assert.equal(r.status, 200);
      const deadline = Date.now() + 3000;
      while (!server.output().includes('visible 42') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const out = server.output();
      assert.match(out, /visible 42 \{ nested: \{ ok: true \} \}/);
      assert.doesNotMatch(out, /hidden debug line/);
    });
  });
}

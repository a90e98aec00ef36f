/**
 * The single-file executable (`npm run build:binary`): built with Bun's --compile into a temp dir,
 * started on its own (file store, two proxy workers), it proxies a request and runs a module.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { installedBun } from '../src/platform/choose.js';
import { request } from './support/http.js';
import { freePort, putJson, stop, tempDir, waitReady, type ServerProcess } from './support/server-process.js';

const BUN = installedBun();
const DIST_SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Runs a command to its end without blocking the event loop; rejects with its output on failure. */
function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

describe('single-file executable', { skip: BUN === null && 'the bun package is not installed' }, () => {
  const dir = tempDir('dgate-binary-');
  const exe = join(dir, 'dgate-server');
  let server: ServerProcess;

  before(async () => {
    // the same command as npm run build:binary, into the temp dir
    await run(BUN!, ['build', '--compile', join(DIST_SRC, 'bin/dgate-server-binary.js'), join(DIST_SRC, 'modules/watchdog-thread.js'), '--outfile', exe]);
    const ports = { proxy: await freePort(), admin: await freePort() };
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `storage: { type: file, dir: ${dir}/data }\nproxy: { host: 127.0.0.1, port: ${ports.proxy}, workers: 2 }\nadmin: { host: 127.0.0.1, port: ${ports.admin} }\n`);
    const child = spawn(exe, ['--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    server = { child, dir, proxyUrl: `http://127.0.0.1:${ports.proxy}`, adminUrl: `http://127.0.0.1:${ports.admin}`, output: () => out, exited };
    await waitReady(server);
  });
  after(async () => {
    if (server !== undefined) await stop(server);
  });

  it('starts on Bun with the file store, proxies a request and runs a module', async () => {
    assert.match(server.output(), /"storage":"file".*"runtime":"bun /);
    assert.equal(await putJson(server.adminUrl, 'service', { name: 'admin', urls: [server.adminUrl] }), 201);
    assert.equal(await putJson(server.adminUrl, 'route', { name: 'up', paths: ['/up/*'], methods: ['GET'], service: 'admin', stripPath: true }), 201);
    const proxied = await request(`${server.proxyUrl}/up/healthz`);
    assert.equal(proxied.statusCode, 200);
    assert.equal(((await proxied.body.json()) as { status: string }).status, 'ok');

    const source = 'export function requestHandler(ctx: any) { ctx.response().json({ hello: ctx.pathParam("name") }); }';
    assert.equal(await putJson(server.adminUrl, 'module', { name: 'hello', payload: Buffer.from(source).toString('base64') }), 201);
    assert.equal(await putJson(server.adminUrl, 'route', { name: 'hello', paths: ['/hello/{name}'], methods: ['GET'], modules: ['hello'] }), 201);
    const answered = await request(`${server.proxyUrl}/hello/world`);
    assert.equal(answered.statusCode, 200);
    assert.deepEqual(await answered.body.json(), { hello: 'world' });
  });
});

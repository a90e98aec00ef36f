/**
 * Start-up through the real binary: a bad config stops it with a message naming the key;
 * init_resources are applied at every start without duplicating anything.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { request } from './support/http.js';
import { startEchoServer } from '../src/testserver/echo.js';
import { startServerProcess, stop, tempDir } from './support/server-process.js';

describe('dgate-server start-up', () => {
  it('refuses an unknown key, naming it, with exit code 1', async () => {
    const server = await startServerProcess({
      waitReady: false,
      yaml: (p) => `storage: { type: memory }\nproxy: { port: ${p.proxy}, prot: 1 }\nadmin: { port: ${p.admin} }\n`,
    });
    assert.equal(await server.exited, 1);
    assert.match(server.output(), /proxy\.prot/);
  });

  it('refuses an ill-typed value, naming the key', async () => {
    const server = await startServerProcess({
      waitReady: false,
      yaml: (p) => `storage: { type: memory }\nproxy: { port: ${p.proxy} }\nadmin: { port: "not-a-port" }\n`,
    });
    assert.equal(await server.exited, 1);
    assert.match(server.output(), /admin\.port/);
  });

  it('refuses an invalid init_resources item, naming it', async () => {
    const server = await startServerProcess({
      waitReady: false,
      yaml: (p) => `storage: { type: memory }
proxy:
  port: ${p.proxy}
  init_resources:
    services: [{ name: s, namespace: default, urls: ["ftp://x"] }]
admin: { port: ${p.admin} }
`,
    });
    assert.equal(await server.exited, 1);
    assert.match(server.output(), /init_resources\.services\[0\].*urls\[0\]/);
  });

  it('substitutes ${VAR:-default} and applies init_resources idempotently at every start', async () => {
    const echo = await startEchoServer();
    const dir = tempDir();
    writeFileSync(join(dir, 'mod.ts'), 'export const requestModifier = (ctx: any) => {};\n');
    const yaml = (p: { proxy: number; admin: number; dir: string }) => `
log_level: \${DGATE_TEST_UNSET_LEVEL:-error}
storage: { type: file, dir: ${p.dir}/data }
proxy:
  host: 127.0.0.1
  port: ${p.proxy}
  workers: 0
  init_resources:
    namespaces: [{ name: app }]
    services: [{ name: echo, namespace: app, urls: ["${echo.url}/from-init"] }]
    modules: [{ name: m1, namespace: app, payload_file: mod.ts, moduleType: typescript }]
    routes: [{ name: all, namespace: app, paths: ["/*"], methods: ["GET"], service: echo, stripPath: true }]
    domains: [{ name: app, namespace: app, patterns: ["app.local"] }]
admin: { host: 127.0.0.1, port: ${p.admin} }
`;
    try {
      let revs: number[] = [];
      for (let start = 0; start < 2; start++) {
        const server = await startServerProcess({ dir, yaml });
        try {
          const res = await request(`${server.proxyUrl}/x`, { headers: { host: 'app.local' } });
          assert.equal(res.statusCode, 200);
          assert.equal(((await res.body.json()) as any).data.path, '/from-init/x');
          const log = await request(`${server.adminUrl}/changelog`);
          revs.push(((await log.body.json()) as any).rev);
        } finally {
          await stop(server);
        }
      }
      assert.equal(revs[1], revs[0], 'the second start wrote nothing new');
    } finally {
      await echo.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

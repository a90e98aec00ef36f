/**
 * Hot reload: a module rewritten 100 times under continuous load, served by two worker
 * processes, fails no request, and after each write answers the next request with the new code.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Agent, request } from './support/http.js';
import { startEchoServer } from '../src/testserver/echo.js';
import { putJson, startServerProcess, stop } from './support/server-process.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const version = (v: number) =>
  b64(`export async function responseModifier(ctx: any) { ctx.upstream().headers.set('X-Version', '${v}'); }
export function requestModifier(ctx: any) { ctx.request().headers.set('X-Asked-Version', '${v}'); }`);

it('rewrites a module 100 times under load with no failed request', async (t) => {
  const echo = await startEchoServer();
  const server = await startServerProcess({
    yaml: (p) => `log_level: warn
storage: { type: memory }
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 2 }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
  });
  const agent = new Agent({ connections: 16 });
  try {
    assert.equal(await putJson(server.adminUrl, 'service', { name: 'echo', urls: [echo.url] }), 201);
    assert.equal(await putJson(server.adminUrl, 'module', { name: 'versioned', payload: version(0) }), 201);
    assert.equal(await putJson(server.adminUrl, 'route', { name: 'r', paths: ['/v'], methods: ['GET'], service: 'echo', modules: ['versioned'] }), 201);

    let running = true;
    let ok = 0;
    const failures: string[] = [];
    const clients = Array.from({ length: 8 }, async () => {
      while (running) {
        try {
          const res = await request(`${server.proxyUrl}/v`, { dispatcher: agent });
          const body = (await res.body.json()) as any;
          const v = res.headers['x-version'];
          if (res.statusCode !== 200 || typeof v !== 'string') failures.push(`status ${res.statusCode}, version ${v}`);
          else if (body.data.req_headers['X-Asked-Version']?.[0] !== v) failures.push(`request ran version ${body.data.req_headers['X-Asked-Version']} but response ${v}`);
          else ok++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    });
    for (let v = 1; v <= 100; v++) {
      assert.equal(await putJson(server.adminUrl, 'module', { name: 'versioned', payload: version(v) }), 201);
      const res = await request(`${server.proxyUrl}/v`, { dispatcher: agent });
      await res.body.dump();
      assert.equal(res.headers['x-version'], String(v), `the first request after write ${v} runs the new code`);
    }
    running = false;
    await Promise.all(clients);
    assert.deepEqual(failures, []);
    assert.ok(ok > 100, `requests served during the rewrites: ${ok}`);
    t.diagnostic(`hot reload: 100 module rewrites, ${ok} requests under load, ${failures.length} failed`);
  } finally {
    await agent.close();
    await stop(server);
    await echo.close();
  }
});

/**
 * An endless synchronous loop in module code stalls one worker for at most the watchdog time:
 * the stuck worker is logged with its route and replaced, and the other worker keeps serving.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { request } from './support/http.js';
import { BUN_LIMITS, unlessBun } from './support/runtime.js';
import { putJson, startServerProcess, stop } from './support/server-process.js';
import { until } from './support/until.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

it('replaces a worker stuck in an endless loop while the other keeps serving', unlessBun(BUN_LIMITS.reusePort), async () => {
  const server = await startServerProcess({
    yaml: (p) => `log_level: info
storage: { type: memory }
proxy: { host: 127.0.0.1, port: ${p.proxy}, workers: 2, module_watchdog: 1s }
admin: { host: 127.0.0.1, port: ${p.admin} }
`,
  });
  try {
    const spin = 'export function requestHandler(ctx) { if (ctx.query().get("spin")) { console.log("spinning now"); while (true) {} } ctx.response().json({ ok: true }); }';
    assert.equal(await putJson(server.adminUrl, 'module', { name: 'spinner', payload: b64(spin) }), 201);
    assert.equal(await putJson(server.adminUrl, 'route', { name: 'spin', paths: ['/spin'], methods: ['GET'], modules: ['spinner'] }), 201);

    const started = Date.now();
    const stuck = request(`${server.proxyUrl}/spin?spin=1`).then(
      (r) => r.statusCode,
      (e: Error & { code?: string }) => e.code ?? 'error',
    );
    await until(() => server.output().includes('spinning now'), 'a worker to enter the loop');
    let ok = 0;
    for (let i = 0; i < 30; i++) {
      const res = await request(`${server.proxyUrl}/spin`, { headers: { connection: 'close' } });
      await res.body.dump();
      if (res.statusCode === 200) ok++;
    }
    assert.equal(ok, 30, 'every request to the healthy worker (or its replacement) succeeded');
    assert.notEqual(await stuck, 200, 'the request stuck in the loop did not succeed');
    assert.ok(Date.now() - started < 10_000, 'the stall ended within a few seconds');

    const deadline = Date.now() + 10_000;
    while (!/proxy worker exited; starting a new one/.test(server.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const stuckLine = server.output().split('\n').find((l) => l.includes('event loop stuck'));
    assert.ok(stuckLine, 'the stall was logged');
    const logged = JSON.parse(stuckLine!);
    assert.equal(logged.route, 'spin');
    assert.deepEqual(logged.modules, ['spinner']);
    assert.match(server.output(), /proxy worker exited; starting a new one/);
  } finally {
    await stop(server);
  }
});

/**
 * A client that goes away while a module reads its request body: `readBody()` (and readText,
 * readJson) rejects at once with an error the module can catch, instead of waiting until the
 * hook's time budget ends, and nothing is sent upstream. The budget here (module_timeout 60s)
 * is far longer than any wait of the test: a hook left waiting makes the test fail.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { channels, type RequestEndEvent } from '../src/observability/channels.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { closeGateway, scope, type Scope } from './support/modules-harness.js';
import { until } from './support/until.js';

/** Logs `reading <id>`, then what reading the body gave: `read <n>` or `caught <code>: <message>`. */
const READER = `export async function requestModifier(ctx: any) {
  const id = ctx.request().headers.get('x-request-id');
  console.log('reading ' + id);
  try {
    const body = await ctx.request().readText();
    console.log('read ' + body.length);
  } catch (err: any) {
    console.warn('caught ' + err.code + ': ' + err.message);
  }
}
export async function requestHandler(ctx: any) {
  const id = ctx.request().headers.get('x-request-id');
  console.log('reading ' + id);
  const body = await ctx.request().readJson();
  ctx.response().json({ body });
}
`;

describe('a client that goes away while a module reads its body', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let s: Scope;
  let upstream: Server;
  /** requests that reached the upstream (counted at their head, before any body) */
  const reached: string[] = [];
  const ends: RequestEndEvent[] = [];
  const onEnd = (e: RequestEndEvent) => ends.push(e);

  before(async () => {
    upstream = createServer((req, res) => {
      reached.push(String(req.headers['x-request-id']));
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    gw = await startTestGateway({ proxy: { module_timeout: '60s' } });
    s = await scope(gw, 'gone');
    await s.service('up', [`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`]);
    await s.module('reader', READER);
    await s.route({ name: 'modifier', paths: ['/modifier'], methods: ['POST'], service: 'up', modules: ['reader'] });
    await s.route({ name: 'handler', paths: ['/handler'], methods: ['POST'], modules: ['reader'] });
    channels.requestEnd.subscribe(onEnd);
  });
  after(async () => {
    channels.requestEnd.unsubscribe(onEnd);
    await closeGateway(gw);
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  const lines = async (id: string): Promise<string[]> => {
    const res = await gw.admin('GET', '/api/v1/logs?namespace=gone&module=reader&limit=10000');
    assert.equal(res.status, 200);
    return (res.body.data as Array<{ message: string; requestId: string | null }>).filter((l) => l.requestId === id).map((l) => l.message);
  };

  /** Sends a head announcing 100 bytes and 10 of them, waits until the module reads, then goes away. */
  async function abandon(path: string, id: string): Promise<void> {
    const port = Number(new URL(gw.proxyUrl).port);
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    client.write(`POST ${path} HTTP/1.1\r\nHost: ${s.host}\r\nX-Request-Id: ${id}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":"1234`);
    await until(async () => (await lines(id)).includes(`reading ${id}`), `the module of ${id} reading the body`);
    client.destroy();
  }

  it('readBody in a requestModifier rejects with a catchable error, and the upstream request is not sent', async () => {
    await abandon('/modifier', 'gone-modifier');
    await until(async () => (await lines('gone-modifier')).some((m) => m.startsWith('caught')), 'the module catching the failed read');
    const caught = (await lines('gone-modifier')).find((m) => m.startsWith('caught'))!;
    assert.equal(caught, 'caught DG_ERR_CLIENT_CLOSED: the client closed the connection before the request body was read');
    await until(() => ends.some((e) => e.requestId === 'gone-modifier'), 'the end of the request');
    assert.equal(ends.find((e) => e.requestId === 'gone-modifier')!.status, 499);
    assert.deepEqual(reached, [], 'nothing reached the upstream');
  });

  it('readJson in a requestHandler that does not catch ends the call at once: an uncaught error line, the request ends as 499', async () => {
    await abandon('/handler', 'gone-handler');
    await until(async () => (await lines('gone-handler')).some((m) => m.startsWith('uncaught error in requestHandler')), 'the call ending with the failed read');
    assert.match((await lines('gone-handler')).find((m) => m.startsWith('uncaught'))!, /the client closed the connection before the request body was read/);
    await until(() => ends.some((e) => e.requestId === 'gone-handler'), 'the end of the request');
    assert.equal(ends.find((e) => e.requestId === 'gone-handler')!.status, 499);
  });

  it('a client that stays reads its whole body, and the upstream gets it', async () => {
    const res = await s.call('/modifier', { method: 'POST', headers: { 'x-request-id': 'stays' }, body: '{"a":1}' });
    assert.equal(res.status, 200);
    await until(async () => (await lines('stays')).includes('read 7'), 'the module reading the 7 bytes');
    assert.deepEqual(reached, ['stays']);
  });
});

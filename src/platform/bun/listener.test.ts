/** Which requests the Bun listener hands to its WebSocket upgrade path. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWebSocket } from './listener.js';

const req = (method: string, upgrade?: string) => new Request('http://127.0.0.1/ws', { method, headers: upgrade === undefined ? {} : { Upgrade: upgrade } });

describe('isWebSocket', () => {
  it('takes a GET whose Upgrade header names websocket, in any case and among other tokens', () => {
    for (const v of ['websocket', 'WebSocket', 'WEBSOCKET', ' websocket ', 'h2c, websocket', 'websocket,foo', 'foo ,  WebSocket  , bar']) assert.equal(isWebSocket(req('GET', v)), true, v);
  });
  it('leaves requests without an Upgrade header, other upgrades and other methods to the handler', () => {
    assert.equal(isWebSocket(req('GET')), false);
    for (const v of ['', 'h2c', 'websockets', 'xwebsocket', 'web socket', 'websocket/13', 'websocketx']) assert.equal(isWebSocket(req('GET', v)), false, v);
    for (const m of ['POST', 'PUT', 'HEAD']) assert.equal(isWebSocket(req(m, 'websocket')), false, m);
  });
});

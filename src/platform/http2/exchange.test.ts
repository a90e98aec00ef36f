import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionSpecificField, toH2Headers } from './exchange.js';
import { protocolOf } from './h2c-listener.js';
import { requestHeaders } from './upstream.js';

test('the first bytes of a connection choose HTTP/2 only when they are the whole preface', () => {
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  assert.equal(protocolOf(preface), 'h2');
  assert.equal(protocolOf(Buffer.concat([preface, Buffer.from([0, 0, 0, 4])])), 'h2');
  assert.equal(protocolOf(preface.subarray(0, 5)), null);
  assert.equal(protocolOf(Buffer.from('GET / HTTP/1.1\r\n')), 'h1');
  assert.equal(protocolOf(Buffer.from('PRI / HTTP/1.1\r\n')), 'h1');
  assert.equal(protocolOf(Buffer.from('P')), null);
});

test('answers to HTTP/2 clients: lower-case names, no connection-specific fields, repeated fields kept or replaced', () => {
  const h = toH2Headers(['Content-Type', 'text/plain', 'Connection', 'close', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'X-Global', 'g', 'content-type', 'application/json', 'Upgrade', 'h2c', 'TE', 'trailers']);
  assert.deepEqual({ ...h }, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], 'x-global': 'g' });
});

test('requests from HTTP/2 clients: a connection-specific field makes them malformed, te: trailers does not', () => {
  assert.equal(connectionSpecificField({ ':path': '/', te: 'trailers' }), null);
  assert.equal(connectionSpecificField({ ':path': '/', te: 'gzip' }), 'te');
  assert.equal(connectionSpecificField({ ':path': '/', 'keep-alive': '5' }), 'keep-alive');
  assert.equal(connectionSpecificField({ ':path': '/', upgrade: 'websocket' }), 'upgrade');
});

test('requests to HTTP/2 upstreams: Host is :authority, connection-specific fields dropped, te only as trailers', () => {
  const h = requestHeaders({ method: 'POST', path: '/a?b=1', body: null, headers: ['Host', 'up.example:81', 'Connection', 'x', 'Proxy-Connection', 'k', 'TE', 'gzip', 'Cookie', 'a=1', 'cookie', 'b=2', 'X-A', '1'] });
  assert.deepEqual({ ...h }, { ':method': 'POST', ':path': '/a?b=1', ':authority': 'up.example:81', cookie: 'a=1; b=2', 'x-a': '1' });
  assert.equal(requestHeaders({ method: 'GET', path: '/', body: null, headers: ['te', 'Trailers'] })['te'], 'Trailers');
});

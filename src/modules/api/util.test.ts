import assert from 'node:assert/strict';
import { test } from 'node:test';
import vm from 'node:vm';
import { createTestHost } from './test-host.js';
import * as utilApi from './util.js';

const u = utilApi.create(await createTestHost()) as Record<string, any>;
const bytes = (buf: ArrayBuffer) => [...new Uint8Array(buf)];

test('name is dgate/util; DGate\'s unusable readWriteBody is not offered', () => {
  assert.equal(utilApi.name, 'dgate/util');
  assert.deepEqual(Object.keys(u).sort(), ['fromBase64', 'parseDuration', 'textDecode', 'textEncode', 'toBase64']);
});

test('toBase64 encodes UTF-8 text and binary data with padding', () => {
  assert.equal(u.toBase64('hello'), 'aGVsbG8=');
  assert.equal(u.toBase64('é'), 'w6k=');
  assert.equal(u.toBase64(new Uint8Array([0xfb, 0xff])), '+/8=');
  assert.equal(u.toBase64(new Uint8Array([1, 2, 3]).buffer), 'AQID');
  assert.equal(u.toBase64(vm.runInNewContext('new Uint8Array([1, 2, 3])')), 'AQID');
});

test('fromBase64 returns an ArrayBuffer; URL alphabet, missing padding and whitespace are accepted', () => {
  const out = u.fromBase64('aGVsbG8=');
  assert.ok(out instanceof ArrayBuffer);
  assert.equal(Buffer.from(out).toString(), 'hello');
  assert.deepEqual(bytes(u.fromBase64('+/8=')), [0xfb, 0xff]);
  assert.deepEqual(bytes(u.fromBase64('-_8')), [0xfb, 0xff]);
  assert.deepEqual(bytes(u.fromBase64('AQ ID\n')), [1, 2, 3]);
  assert.deepEqual(bytes(u.fromBase64('')), []);
});

test('fromBase64 refuses text that is not base64 instead of decoding part of it', () => {
  for (const bad of ['a', 'abc$', 'ab=c', 'abcd=', '====']) assert.throws(() => u.fromBase64(bad), { message: 'fromBase64: invalid base64 text' }, bad);
  assert.throws(() => u.fromBase64(42), TypeError);
});

test('textEncode → ArrayBuffer of UTF-8; textDecode reverses it from a buffer or a view', () => {
  const enc = u.textEncode('héllo €');
  assert.ok(enc instanceof ArrayBuffer);
  assert.equal(u.textDecode(enc), 'héllo €');
  assert.equal(u.textDecode(new Uint8Array(enc)), 'héllo €');
  assert.equal(u.textDecode(new Uint8Array([0xff])), '\uFFFD');
  assert.throws(() => u.textEncode(1), TypeError);
  assert.throws(() => u.textDecode('text'), TypeError);
});

test('parseDuration gives milliseconds from Go-style durations, fractions kept', () => {
  assert.equal(u.parseDuration('1.5s'), 1500);
  assert.equal(u.parseDuration('30ms'), 30);
  assert.equal(u.parseDuration('1m30s'), 90_000);
  assert.equal(u.parseDuration('250us'), 0.25);
  assert.equal(u.parseDuration('-2m'), -120_000);
  assert.equal(u.parseDuration('0'), 0);
  assert.throws(() => u.parseDuration('10'), { message: 'parseDuration: invalid duration: "10"' });
  assert.throws(() => u.parseDuration('soon'), TypeError);
  assert.throws(() => u.parseDuration(10), TypeError);
});

test('durationMs (shared by sleep and retry): numbers are seconds with fractions, strings durations, negatives refused', () => {
  assert.equal(utilApi.durationMs(0.5), 500);
  assert.equal(utilApi.durationMs(2), 2000);
  assert.equal(utilApi.durationMs('30ms'), 30);
  assert.throws(() => utilApi.durationMs(-1), RangeError);
  assert.throws(() => utilApi.durationMs('-1s'), RangeError);
  assert.throws(() => utilApi.durationMs(Number.NaN), RangeError);
  assert.throws(() => utilApi.durationMs('x'), TypeError);
  assert.throws(() => utilApi.durationMs(null), TypeError);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import vm from 'node:vm';
import * as cryptoApi from './crypto.js';
import { createTestHost } from './test-host.js';

const host = await createTestHost();
// The exports as module code sees them: untyped functions.
const c = cryptoApi.create(host) as Record<string, any>;

const hex = (buf: ArrayBuffer) => Buffer.from(buf).toString('hex');

// FIPS 180-4 examples ("abc"), RFC 1321 appendix A.5 for MD5.
const ABC: Record<string, string> = {
  md5: '900150983cd24fb0d6963f7d28e17f72',
  sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d',
  sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  sha384: 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
  sha512: 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
  sha512_224: '4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa',
  sha512_256: '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23',
};

test('name is dgate/crypto', () => {
  assert.equal(cryptoApi.name, 'dgate/crypto');
});

test('createHash matches the published "abc" digests of every algorithm', () => {
  for (const [alg, expected] of Object.entries(ABC)) {
    assert.equal(c.createHash(alg).update('abc').digest('hex'), expected, alg);
  }
});

test('the shortcuts md5(data, enc) … sha512_256(data, enc) give the same digests', () => {
  for (const [alg, expected] of Object.entries(ABC)) assert.equal(c[alg]('abc', 'hex'), expected, alg);
});

test('hyphen spellings sha512-224 / sha512-256 and upper case are accepted', () => {
  assert.equal(c.createHash('sha512-224').update('abc').digest('hex'), ABC.sha512_224);
  assert.equal(c.createHash('sha512-256').update('abc').digest('hex'), ABC.sha512_256);
  assert.equal(c.createHash('SHA256').update('abc').digest('hex'), ABC.sha256);
});

test('update() chains and concatenates: "a","b","c" hashes as "abc"', () => {
  assert.equal(c.createHash('sha256').update('a').update('b').update('c').digest('hex'), ABC.sha256);
});

test('data may be a string (UTF-8), an ArrayBuffer, a typed array or a DataView, also from a vm context', () => {
  const bytes = new TextEncoder().encode('abc');
  assert.equal(c.sha256(bytes, 'hex'), ABC.sha256);
  assert.equal(c.sha256(bytes.buffer, 'hex'), ABC.sha256);
  assert.equal(c.sha256(new DataView(bytes.buffer), 'hex'), ABC.sha256);
  // a view on part of a larger buffer hashes only its own bytes
  const padded = new Uint8Array([0, 97, 98, 99, 0]);
  assert.equal(c.sha256(padded.subarray(1, 4), 'hex'), ABC.sha256);
  const foreign = vm.runInNewContext('new Uint8Array([97, 98, 99])');
  assert.equal(c.sha256(foreign, 'hex'), ABC.sha256);
  assert.equal(c.sha256(vm.runInNewContext('new Uint8Array([97, 98, 99]).buffer'), 'hex'), ABC.sha256);
  // UTF-8: "é" is c3 a9
  assert.equal(c.sha256('é', 'hex'), c.sha256(new Uint8Array([0xc3, 0xa9]), 'hex'));
  assert.throws(() => c.sha256(42, 'hex'), { name: 'TypeError', message: 'data must be a string, an ArrayBuffer or a typed array' });
});

test('digest encodings: hex, base64/b64, raw (unpadded), url (padded, URL alphabet), rawurl', () => {
  // sha256("abc") in base64 contains "+", "/" and one "=" of padding
  const std = 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=';
  const cases: Record<string, string> = {
    hex: ABC.sha256!,
    base64: std,
    b64: std,
    base64raw: 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0',
    b64raw: 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0',
    base64url: 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0=',
    b64url: 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0=',
    base64rawurl: 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0',
    b64rawurl: 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0',
  };
  for (const [enc, expected] of Object.entries(cases)) assert.equal(c.createHash('sha256').update('abc').digest(enc), expected, enc);
});

test('no encoding returns an ArrayBuffer of exactly the digest bytes', () => {
  const out = c.createHash('sha1').update('abc').digest();
  assert.ok(out instanceof ArrayBuffer);
  assert.equal(out.byteLength, 20);
  assert.equal(hex(out), ABC.sha1);
  assert.equal(hex(c.md5('abc')), ABC.md5);
});

test('an unknown encoding throws before the hash is used; an unknown algorithm throws "invalid hash algorithm: X"', () => {
  const h = c.createHash('sha256').update('abc');
  assert.throws(() => h.digest('hexx'), /^Error: invalid digest encoding: hexx/);
  assert.equal(h.digest('hex'), ABC.sha256);
  assert.throws(() => c.createHash('sha3'), { message: 'invalid hash algorithm: sha3' });
  assert.throws(() => c.createHmac('whirlpool', 'k'), { message: 'invalid hash algorithm: whirlpool' });
});

test('getHashes() lists exactly names that createHash accepts', () => {
  const names = c.getHashes() as string[];
  assert.deepEqual(names, ['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha512_224', 'sha512_256']);
  for (const n of names) assert.equal(typeof c.createHash(n).update('x').digest('hex'), 'string');
});

// RFC 4231 test cases 1 and 2.
test('HMAC-SHA256 and HMAC-SHA512 match RFC 4231 test cases 1-2', () => {
  const key1 = new Uint8Array(20).fill(0x0b);
  assert.equal(c.hmac('sha256', key1, 'Hi There', 'hex'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
  assert.equal(
    c.hmac('sha512', key1, 'Hi There', 'hex'),
    '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
  );
  assert.equal(c.hmac('sha256', 'Jefe', 'what do ya want for nothing?', 'hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.equal(
    c.hmac('sha512', 'Jefe', 'what do ya want for nothing?', 'hex'),
    '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
  );
});

// RFC 2202 test cases 1 and 2.
test('HMAC-MD5 and HMAC-SHA1 match RFC 2202 test cases 1-2', () => {
  assert.equal(c.hmac('md5', new Uint8Array(16).fill(0x0b), 'Hi There', 'hex'), '9294727a3638bb1c13f48ef8158bfc9d');
  assert.equal(c.hmac('md5', 'Jefe', 'what do ya want for nothing?', 'hex'), '750c783e6ab0b503eaa86e310a5db738');
  assert.equal(c.hmac('sha1', new Uint8Array(20).fill(0x0b).buffer, 'Hi There', 'hex'), 'b617318655057264e28bc0b6fb378c8ef146be00');
  assert.equal(c.hmac('sha1', 'Jefe', 'what do ya want for nothing?', 'hex'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
});

test('createHmac(alg, key).update(…).digest(enc) equals hmac(alg, key, data, enc); no encoding → ArrayBuffer', () => {
  const h = c.createHmac('sha256', 'Jefe').update('what do ya ').update('want for nothing?');
  assert.equal(h.digest('b64'), Buffer.from('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', 'hex').toString('base64'));
  assert.equal(hex(c.hmac('sha256', 'Jefe', 'what do ya want for nothing?')), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.throws(() => c.createHmac('sha256', 42), { message: 'key must be a string, an ArrayBuffer or a typed array' });
});

test('randomBytes(n) → ArrayBuffer of n bytes; n must be an integer ≥ 1', () => {
  const a = c.randomBytes(32);
  assert.ok(a instanceof ArrayBuffer);
  assert.equal(a.byteLength, 32);
  assert.notEqual(hex(a), hex(c.randomBytes(32)));
  for (const bad of [0, -1, 1.5, '8', undefined]) assert.throws(() => c.randomBytes(bad), RangeError, String(bad));
});

test('randomInt(max) is in [0, max) and randomInt(min, max) in [min, max)', () => {
  for (let i = 0; i < 200; i++) {
    const a = c.randomInt(3);
    assert.ok(Number.isInteger(a) && a >= 0 && a < 3);
    const b = c.randomInt(-5, -2);
    assert.ok(Number.isInteger(b) && b >= -5 && b < -2);
  }
  assert.throws(() => c.randomInt(5, 5), RangeError);
});

test('randomUUID() is an RFC 4122 version 4 UUID; hexEncode gives lowercase hex', () => {
  assert.match(c.randomUUID(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(c.hexEncode('abc'), '616263');
  assert.equal(c.hexEncode(new Uint8Array([0, 255, 16])), '00ff10');
  assert.equal(c.hexEncode(new Uint8Array([0xab]).buffer), 'ab');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from './errors.js';
import { checkName, isValidName } from './names.js';

test('names of 1 to 128 characters without "/", whitespace or control characters are valid', () => {
  for (const n of ['a', 'my-route_1', 'ns.example:v2', 'ümlaut', '日本', 'x'.repeat(128), '😀'.repeat(128), '*', '%2F']) {
    assert.equal(isValidName(n), true, n);
  }
});

test('empty, too long, "/", whitespace, control characters and non-strings are invalid', () => {
  for (const n of ['', 'x'.repeat(129), 'a/b', 'a b', ' a', 'a\t', 'a\n', 'a\u0000', 'a\u007f', 'a\u00a0b', 'a\u2028', '\ud800']) {
    assert.equal(isValidName(n), false, JSON.stringify(n));
  }
  for (const n of [1, null, undefined, ['a'], {}]) assert.equal(isValidName(n), false);
});

test('checkName names the field in its 400', () => {
  assert.equal(checkName('name', 'ok'), 'ok');
  assert.throws(
    () => checkName('modules[2]', 'a/b'),
    (e: unknown) =>
      e instanceof GatewayError &&
      e.status === 400 &&
      e.field === 'modules[2]' &&
      e.message === 'modules[2]: must be 1-128 characters without "/", whitespace or control characters',
  );
  assert.throws(() => checkName('name', undefined), { message: 'name: is required' });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { substituteEnv, substituteTree } from './substitute.js';

const env = { PORT: '9000', EMPTY: '', NAME: 'dgate' };

test('${VAR} is the value, or "" when unset', () => {
  assert.equal(substituteEnv('${PORT}', env), '9000');
  assert.equal(substituteEnv('${MISSING}', env), '');
  assert.equal(substituteEnv('${EMPTY}', env), '');
  assert.equal(substituteEnv('http://${NAME}:${PORT}/x', env), 'http://dgate:9000/x');
});

test('${VAR:-default} falls back when unset or empty', () => {
  assert.equal(substituteEnv('${PORT:-80}', env), '9000');
  assert.equal(substituteEnv('${MISSING:-80}', env), '80');
  assert.equal(substituteEnv('${EMPTY:-80}', env), '80');
  assert.equal(substituteEnv('${MISSING:-}', env), '');
  assert.equal(substituteEnv('${MISSING:-a b:c}', env), 'a b:c');
});

test('$VAR is not expanded; values containing $( are left entirely as they are', () => {
  assert.equal(substituteEnv('$PORT', env), '$PORT');
  assert.equal(substituteEnv('$(echo hi)', env), '$(echo hi)');
  assert.equal(substituteEnv('$(echo ${NAME})', env), '$(echo ${NAME})');
  assert.equal(substituteEnv('${NAME} $(date)', env), '${NAME} $(date)');
  assert.equal(substituteEnv('${}', env), '${}');
  assert.equal(substituteEnv('${NAME', env), '${NAME');
});

test('substituteTree substitutes values and list items, not keys', () => {
  const out = substituteTree({ '${NAME}': '${NAME}', list: ['${PORT}', 1, true, null], nested: { a: '${MISSING:-x}' } }, env);
  assert.deepEqual(out, { '${NAME}': 'dgate', list: ['9000', 1, true, null], nested: { a: 'x' } });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { moduleFrames, moduleInStack } from './stack-module.js';

const STACK = `Error: boom
    at inner (dgate://shop/helpers.v2.ts:3:9)
    at requestHandler (dgate://shop/auth.ts:10:3)
    at HookRunner.call (file:///app/dist/src/modules/hook-runner.js:44:31)
    at handle (file:///app/dist/src/proxy/module-pipeline.js:43:26)`;

test('the innermost module frame of the namespace names the module', () => {
  assert.equal(moduleInStack(STACK, 'shop'), 'helpers.v2');
  assert.equal(moduleInStack('Error\n    at dgate://shop/auth.js:1:2', 'shop'), 'auth');
  assert.equal(moduleInStack(STACK, 'other'), null);
  assert.equal(moduleInStack('Error: x\n    at file:///a.js:1:1', 'shop'), null);
});

test('a stack shown to module authors ends at its last module frame', () => {
  assert.equal(moduleFrames(STACK), STACK.split('\n').slice(0, 3).join('\n'));
  assert.equal(moduleFrames('Error: timeout\n    at file:///a.js:1:1'), 'Error: timeout');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeaderMap } from './header-map.js';

test('reads are case-insensitive; edits override the list and keep the order they were first made in', () => {
  const h = new HeaderMap(['Host', 'a.example', 'Accept', 'text/html', 'X-Multi', '1', 'x-multi', '2']);
  assert.equal(h.get('host'), 'a.example');
  assert.deepEqual(h.values('X-MULTI'), ['1', '2']);
  h.set('X-New', 'n1');
  h.set('accept', 'application/json');
  h.add('x-multi', '3');
  h.del('Host');
  h.set('x-new', 'n2'); // an edit made again keeps its place
  assert.equal(h.get('Host'), null);
  assert.equal(h.has('host'), false);
  assert.equal(h.get('X-New'), 'n2');
  assert.deepEqual(h.values('x-multi'), ['1', '2', '3']);
  assert.deepEqual(h.flat(), ['x-new', 'n2', 'accept', 'application/json', 'X-Multi', '1', 'X-Multi', '2', 'X-Multi', '3']);
  assert.deepEqual(h.keys(), ['x-new', 'accept', 'X-Multi']);
  assert.deepEqual(h.flatWithout(new Set(['accept'])), ['x-new', 'n2', 'X-Multi', '1', 'X-Multi', '2', 'X-Multi', '3']);
  h.set('Host', 'b.example'); // set after del
  assert.equal(h.get('host'), 'b.example');
});

test('the list is made only when a header is read: edits alone do not ask for it', () => {
  let made = 0;
  const h = new HeaderMap(() => {
    made++;
    return ['Content-Type', 'text/plain'];
  });
  h.set('X-Res', '1');
  h.del('X-Gone');
  assert.equal(h.listed, false);
  assert.equal(made, 0);
  assert.equal(h.get('content-type'), 'text/plain');
  assert.equal(h.listed, true);
  h.get('x-res');
  assert.equal(made, 1, 'made once');
});

test('editsAny names what module code touched; applyTo puts the edits on a fetch Headers', () => {
  const h = new HeaderMap(['Keep', 'k', 'Drop', 'd', 'Change', 'old']);
  assert.equal(h.editsAny(new Set(['keep'])), false);
  h.set('Change', 'new');
  h.add('Added', 'a1');
  h.add('added', 'a2');
  h.del('drop');
  assert.equal(h.editsAny(new Set(['host', 'drop'])), true);
  assert.equal(h.editsAny(new Set(['keep'])), false);
  const out = new Headers({ Keep: 'k', Drop: 'd', Change: 'old' });
  h.applyTo(out);
  assert.deepEqual([...out.entries()], [
    ['added', 'a1, a2'],
    ['change', 'new'],
    ['keep', 'k'],
  ]);
});

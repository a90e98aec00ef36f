import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import { PathRouter, type RouteMatch } from './router.js';

/** Router with each pattern registered for GET under its own pattern as value. */
function routerOf(...patterns: string[]): PathRouter<string> {
  const router = new PathRouter<string>();
  for (const pattern of patterns) router.add(pattern, ['GET'], pattern);
  return router;
}

function found<T>(match: RouteMatch<T>): { value: T; params: Record<string, string> | null; pattern: string } {
  assert.equal(match.kind, 'found', `expected a match, got ${JSON.stringify(match)}`);
  return match as Extract<RouteMatch<T>, { kind: 'found' }>;
}

describe('PathRouter static patterns', () => {
  test('matches exact static paths and reports the pattern, with null params', () => {
    const router = routerOf('/', '/users', '/users/list', '/u');
    for (const path of ['/', '/users', '/users/list', '/u']) {
      const m = found(router.find('GET', path));
      assert.equal(m.value, path);
      assert.equal(m.pattern, path);
      assert.equal(m.params, null);
    }
  });

  test('does not match prefixes or extensions of static paths', () => {
    const router = routerOf('/users/list');
    for (const path of ['/users', '/users/', '/users/lis', '/users/lists', '/users/list/x', '']) {
      assert.deepEqual(router.find('GET', path), { kind: 'not-found' }, path);
    }
  });

  test('trailing slash is significant', () => {
    const router = routerOf('/test');
    assert.equal(router.find('GET', '/test').kind, 'found');
    assert.equal(router.find('GET', '/test/').kind, 'not-found');
    const slashed = routerOf('/test/');
    assert.equal(slashed.find('GET', '/test/').kind, 'found');
    assert.equal(slashed.find('GET', '/test').kind, 'not-found');
  });

  test('matches the raw path without decoding or cleaning', () => {
    const router = routerOf('/a%20b', '/x/{id}');
    assert.equal(router.find('GET', '/a%20b').kind, 'found');
    assert.equal(router.find('GET', '/a b').kind, 'not-found');
    assert.deepEqual(found(router.find('GET', '/x/%2F')).params, { id: '%2F' });
    assert.equal(router.find('GET', '/x/../x/1').kind, 'not-found');
    assert.equal(router.find('GET', '//x/1').kind, 'not-found');
  });

  test('static nodes split correctly whatever the insertion order', () => {
    const patterns = ['/abc/def', '/abc', '/ab', '/abd', '/abcdef', '/a'];
    const router = routerOf(...patterns);
    for (const p of patterns) assert.equal(found(router.find('GET', p)).value, p);
    const reversed = routerOf(...[...patterns].reverse());
    for (const p of patterns) assert.equal(found(reversed.find('GET', p)).value, p);
    assert.equal(router.find('GET', '/abcd').kind, 'not-found');
  });
});

describe('PathRouter params', () => {
  test('a {name} param matches one segment and is exposed by name', () => {
    const router = routerOf('/users/{id}', '/users/{id}/posts/{post}');
    assert.deepEqual(found(router.find('GET', '/users/42')).params, { id: '42' });
    const m = found(router.find('GET', '/users/42/posts/7'));
    assert.deepEqual(m.params, { id: '42', post: '7' });
    assert.equal(m.pattern, '/users/{id}/posts/{post}');
    assert.equal(router.find('GET', '/users/42/').kind, 'not-found');
    assert.equal(router.find('GET', '/users/42/x').kind, 'not-found');
  });

  test('a param value is never empty', () => {
    const router = routerOf('/users/{id}', '/a/{x}/b');
    assert.equal(router.find('GET', '/users/').kind, 'not-found');
    assert.equal(router.find('GET', '/a//b').kind, 'not-found');
  });

  test('mid-segment params end at the static text that follows them', () => {
    const router = routerOf('/files/{name}.{ext}', '/{a}-{b}', '/v{version}/info');
    assert.deepEqual(found(router.find('GET', '/files/report.pdf')).params, { name: 'report', ext: 'pdf' });
    // chi's rule: the first occurrence of the following character ends the param.
    assert.deepEqual(found(router.find('GET', '/files/a.b.c')).params, { name: 'a', ext: 'b.c' });
    assert.deepEqual(found(router.find('GET', '/x-y')).params, { a: 'x', b: 'y' });
    assert.deepEqual(found(router.find('GET', '/x-y-z')).params, { a: 'x', b: 'y-z' });
    assert.deepEqual(found(router.find('GET', '/v2/info')).params, { version: '2' });
    assert.equal(router.find('GET', '/files/report').kind, 'not-found');
    assert.equal(router.find('GET', '/files/.pdf').kind, 'not-found');
    assert.equal(router.find('GET', '/-y').kind, 'not-found');
  });

  test('a mid-segment param never spans a slash', () => {
    const router = routerOf('/files/{name}.json');
    assert.equal(router.find('GET', '/files/a/b.json').kind, 'not-found');
    assert.deepEqual(found(router.find('GET', '/files/b.json')).params, { name: 'b' });
  });

  test('a {name:regex} param must match the regex entirely', () => {
    const router = routerOf('/items/{id:[0-9]+}', '/codes/{code:a|b}');
    assert.deepEqual(found(router.find('GET', '/items/123')).params, { id: '123' });
    assert.equal(router.find('GET', '/items/12a').kind, 'not-found');
    assert.equal(router.find('GET', '/items/a12').kind, 'not-found');
    // Anchoring covers alternations as a whole.
    assert.equal(router.find('GET', '/codes/a').kind, 'found');
    assert.equal(router.find('GET', '/codes/ab').kind, 'not-found');
    assert.equal(router.find('GET', '/codes/xb').kind, 'not-found');
  });

  test('regexes may contain braces and are followed by static text like plain params', () => {
    const router = routerOf('/d/{year:[0-9]{4}}-{month:[0-9]{2}}', '/r/{id:[a-z]+}.json');
    assert.deepEqual(found(router.find('GET', '/d/2024-05')).params, { year: '2024', month: '05' });
    assert.equal(router.find('GET', '/d/24-05').kind, 'not-found');
    assert.deepEqual(found(router.find('GET', '/r/abc.json')).params, { id: 'abc' });
    assert.equal(router.find('GET', '/r/ab1.json').kind, 'not-found');
  });

  test('a regex param never spans a slash', () => {
    const router = routerOf('/p/{rest:.+}', '/q/{rest:.+}.json');
    assert.equal(router.find('GET', '/p/a/b').kind, 'not-found');
    assert.equal(router.find('GET', '/q/a/b.json').kind, 'not-found');
    assert.deepEqual(found(router.find('GET', '/q/a.json')).params, { rest: 'a' });
  });

  test('routes sharing a param position keep their own param names', () => {
    const router = routerOf('/{a}/x', '/{b}/y');
    assert.deepEqual(found(router.find('GET', '/1/x')).params, { a: '1' });
    assert.deepEqual(found(router.find('GET', '/1/y')).params, { b: '1' });
  });

  test('returns a fresh params object for each match', () => {
    const router = routerOf('/u/{id}');
    const first = found(router.find('GET', '/u/1')).params!;
    const second = found(router.find('GET', '/u/2')).params!;
    assert.deepEqual(first, { id: '1' });
    assert.deepEqual(second, { id: '2' });
  });
});

describe('PathRouter catch-all', () => {
  test('a trailing * matches the rest of the path, possibly empty, as param *', () => {
    const router = routerOf('/users/*');
    assert.deepEqual(found(router.find('GET', '/users/')).params, { '*': '' });
    assert.deepEqual(found(router.find('GET', '/users/a/b')).params, { '*': 'a/b' });
    assert.deepEqual(found(router.find('GET', '/users/a/b/')).params, { '*': 'a/b/' });
    assert.equal(found(router.find('GET', '/users/a')).pattern, '/users/*');
    assert.equal(router.find('GET', '/users').kind, 'not-found');
  });

  test('a bare /* matches every path', () => {
    const router = routerOf('/*');
    assert.deepEqual(found(router.find('GET', '/')).params, { '*': '' });
    assert.deepEqual(found(router.find('GET', '/a/b?c')).params, { '*': 'a/b?c' });
  });

  test('a catch-all may follow static text within a segment and params before it', () => {
    const router = routerOf('/api*', '/t/{tenant}/*');
    assert.deepEqual(found(router.find('GET', '/api')).params, { '*': '' });
    assert.deepEqual(found(router.find('GET', '/apiv2/x')).params, { '*': 'v2/x' });
    assert.deepEqual(found(router.find('GET', '/t/acme/a/b')).params, { tenant: 'acme', '*': 'a/b' });
    assert.equal(router.find('GET', '/t/acme').kind, 'not-found');
  });
});

describe('PathRouter precedence', () => {
  const patterns = ['/a/static', '/a/{id:[0-9]+}', '/a/{id}', '/a/*'];

  function check(router: PathRouter<string>) {
    assert.equal(found(router.find('GET', '/a/static')).value, '/a/static');
    assert.equal(found(router.find('GET', '/a/123')).value, '/a/{id:[0-9]+}');
    assert.equal(found(router.find('GET', '/a/abc')).value, '/a/{id}');
    assert.equal(found(router.find('GET', '/a/abc/def')).value, '/a/*');
    assert.equal(found(router.find('GET', '/a/')).value, '/a/*');
    assert.equal(found(router.find('GET', '/a/statics')).value, '/a/{id}');
  }

  test('static > regex param > plain param > catch-all', () => {
    check(routerOf(...patterns));
  });

  test('precedence does not depend on insertion order', () => {
    check(routerOf(...[...patterns].reverse()));
    check(routerOf(patterns[2]!, patterns[0]!, patterns[3]!, patterns[1]!));
  });

  test('static text beats a param at any character position', () => {
    const router = routerOf('/v{version}', '/vnext');
    assert.equal(found(router.find('GET', '/vnext')).value, '/vnext');
    assert.deepEqual(found(router.find('GET', '/vnex')).params, { version: 'nex' });
  });

  test('a param ending at a specific character is tried before one taking the whole segment', () => {
    const router = routerOf('/{all}', '/{name}.{ext}');
    assert.deepEqual(found(router.find('GET', '/a.b')).params, { name: 'a', ext: 'b' });
    assert.deepEqual(found(router.find('GET', '/ab')).params, { all: 'ab' });
    const reversed = routerOf('/{name}.{ext}', '/{all}');
    assert.deepEqual(found(reversed.find('GET', '/a.b')).params, { name: 'a', ext: 'b' });
  });

  test('backtracks into the param branch when the static branch fails deeper', () => {
    const router = routerOf('/users/admin/settings', '/users/{id}/profile');
    assert.deepEqual(found(router.find('GET', '/users/admin/profile')).params, { id: 'admin' });
    assert.equal(found(router.find('GET', '/users/admin/settings')).value, '/users/admin/settings');
  });

  test('backtracks from regex to plain param to catch-all, dropping abandoned param values', () => {
    const router = routerOf('/a/{n:[0-9]+}/x', '/a/{s}/y', '/a/*');
    assert.deepEqual(found(router.find('GET', '/a/1/x')).params, { n: '1' });
    assert.deepEqual(found(router.find('GET', '/a/1/y')).params, { s: '1' });
    assert.deepEqual(found(router.find('GET', '/a/1/z')).params, { '*': '1/z' });
  });

  test('backtracks through a failed mid-segment param to the whole-segment one', () => {
    const router = routerOf('/{name}.json', '/{all}/x');
    assert.deepEqual(found(router.find('GET', '/a.b/x')).params, { all: 'a.b' });
  });
});

describe('PathRouter methods', () => {
  test('only the registered methods match; HEAD is not implied by GET', () => {
    const router = new PathRouter<string>();
    router.add('/r', ['GET', 'POST'], 'r');
    assert.equal(router.find('GET', '/r').kind, 'found');
    assert.equal(router.find('POST', '/r').kind, 'found');
    assert.deepEqual(router.find('HEAD', '/r'), { kind: 'method-not-allowed', allow: ['GET', 'POST'] });
    assert.deepEqual(router.find('get', '/r'), { kind: 'method-not-allowed', allow: ['GET', 'POST'] });
  });

  test('405 lists the sorted methods of every route whose path matched', () => {
    const router = new PathRouter<string>();
    router.add('/r/{id}', ['PUT', 'DELETE'], 'param');
    router.add('/r/1', ['POST', 'GET'], 'static');
    router.add('/r/*', ['PATCH'], 'catch-all');
    assert.deepEqual(router.find('OPTIONS', '/r/1'), {
      kind: 'method-not-allowed',
      allow: ['DELETE', 'GET', 'PATCH', 'POST', 'PUT'],
    });
    assert.deepEqual(router.find('OPTIONS', '/r/2'), { kind: 'method-not-allowed', allow: ['DELETE', 'PATCH', 'PUT'] });
  });

  test('a method registered on a lower-precedence route still matches', () => {
    const router = new PathRouter<string>();
    router.add('/r/1', ['GET'], 'static');
    router.add('/r/{id}', ['POST'], 'param');
    router.add('/r/*', ['PUT'], 'catch-all');
    assert.equal(found(router.find('GET', '/r/1')).value, 'static');
    assert.deepEqual(found(router.find('POST', '/r/1')), { kind: 'found', value: 'param', params: { id: '1' }, pattern: '/r/{id}' });
    assert.deepEqual(found(router.find('PUT', '/r/1')).params, { '*': '1' });
  });

  test("['*'] registers every method, including non-standard ones", () => {
    const router = new PathRouter<string>();
    router.add('/any', ['*'], 'any');
    for (const method of ['GET', 'HEAD', 'POST', 'DELETE', 'TRACE', 'PROPFIND', 'X-CUSTOM']) {
      assert.equal(found(router.find(method, '/any')).value, 'any', method);
    }
  });

  test('different methods on one pattern keep their own values', () => {
    const router = new PathRouter<string>();
    router.add('/r', ['GET'], 'reader');
    router.add('/r', ['POST'], 'writer');
    assert.equal(found(router.find('GET', '/r')).value, 'reader');
    assert.equal(found(router.find('POST', '/r')).value, 'writer');
  });

  test('rejects an empty method list', () => {
    assert.throws(() => new PathRouter<string>().add('/r', [], 'x'), GatewayError);
  });
});

describe('PathRouter duplicate registration', () => {
  test('the later add wins for the same pattern and method', () => {
    const router = new PathRouter<string>();
    router.add('/r', ['GET', 'POST'], 'first');
    router.add('/r', ['GET'], 'second');
    assert.equal(found(router.find('GET', '/r')).value, 'second');
    assert.equal(found(router.find('POST', '/r')).value, 'first');
  });

  test("a later ['*'] replaces every method; later specific methods override ['*']", () => {
    const router = new PathRouter<string>();
    router.add('/r', ['GET'], 'get');
    router.add('/r', ['*'], 'any');
    assert.equal(found(router.find('GET', '/r')).value, 'any');
    router.add('/r', ['POST'], 'post');
    assert.equal(found(router.find('POST', '/r')).value, 'post');
    assert.equal(found(router.find('GET', '/r')).value, 'any');
  });

  test('the same shape with other param names replaces the earlier route and its names', () => {
    const router = new PathRouter<string>();
    router.add('/u/{id}', ['GET'], 'first');
    router.add('/u/{name}', ['GET'], 'second');
    assert.deepEqual(found(router.find('GET', '/u/7')), { kind: 'found', value: 'second', params: { name: '7' }, pattern: '/u/{name}' });
  });

  test('duplicate catch-all registrations follow the same rule', () => {
    const router = new PathRouter<string>();
    router.add('/s/*', ['GET'], 'first');
    router.add('/s/*', ['GET'], 'second');
    assert.equal(found(router.find('GET', '/s/x')).value, 'second');
  });
});

test("accepts chi's unnamed param '{}' (used by DGate's own test scripts)", () => {
  const router = new PathRouter<string>();
  router.add('/{}', ['GET'], 'unnamed');
  const m = router.find('GET', '/anything');
  assert.equal(m.kind, 'found');
  assert.equal(router.find('GET', '/a/b').kind, 'not-found');
});

describe('PathRouter invalid patterns', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /must begin with '\/'/],
    ['abc', /must begin with '\/'/],
    ['/a/{id', /unbalanced '\{'/],
    ['/a/id}', /unbalanced '\}'/],
    ['/a/{}/{}', /duplicate param name ''/],
    ['/a/{:[0-9]+}', /has no name/],
    ['/a/{id:}', /empty regex/],
    ['/a/*/b', /'\*' is only allowed as the last character/],
    ['/*a', /'\*' is only allowed as the last character/],
    ['/a/{id}/{id}', /duplicate param name 'id'/],
    ['/a/{id:[0-9}', /invalid regex for param 'id'/],
    ['/a/{id:(}', /invalid regex for param 'id'/],
    ['/a/{x:a)|(b}', /invalid regex for param 'x'/],
    ['/a/{x}{y}', /separated from the previous param/],
    ['/a/{x}*', /separated from the previous param/],
    ['/a/{__proto__}', /invalid param name/],
  ];
  for (const [pattern, message] of cases) {
    test(`rejects '${pattern}' with a 400 naming the pattern`, () => {
      const router = new PathRouter<string>();
      assert.throws(
        () => router.add(pattern, ['GET'], 'x'),
        (err: unknown) => {
          assert.ok(err instanceof GatewayError);
          assert.equal(err.status, 400);
          assert.equal(err.field, 'paths');
          assert.ok(err.message.includes(`'${pattern}'`), err.message);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  test('a rejected pattern leaves the router unchanged', () => {
    const router = routerOf('/a');
    assert.throws(() => router.add('/a/{x', ['GET'], 'bad'));
    assert.equal(router.find('GET', '/a/').kind, 'not-found');
    assert.equal(found(router.find('GET', '/a')).value, '/a');
  });
});

describe('PathRouter scale', () => {
  test('10,000 routes: every lookup finds its own route', () => {
    const router = new PathRouter<number>();
    const count = 10_000;
    // Mixed shapes sharing prefixes: static, param, regex, mid-segment and catch-all routes.
    const shapes = [
      (i: number) => `/api/v1/resource${i}`,
      (i: number) => `/api/v1/resource${i}/{id}`,
      (i: number) => `/svc${i}/items/{id:[0-9]+}`,
      (i: number) => `/files${i}/{name}.{ext}`,
      (i: number) => `/static${i}/*`,
    ];
    for (let i = 0; i < count; i++) router.add(shapes[i % shapes.length]!(i), ['GET'], i);

    for (let i = 0; i < count; i++) {
      const shape = i % shapes.length;
      const path = [`/api/v1/resource${i}`, `/api/v1/resource${i}/abc`, `/svc${i}/items/42`, `/files${i}/a.txt`, `/static${i}/x/y`][shape]!;
      const m = found(router.find('GET', path));
      assert.equal(m.value, i, path);
      assert.equal(m.pattern, shapes[shape]!(i));
    }
    assert.equal(router.find('GET', '/api/v1/resource10000').kind, 'not-found');
    assert.equal(router.find('GET', '/svc2/items/x').kind, 'not-found');
    assert.deepEqual(router.find('POST', '/api/v1/resource0'), { kind: 'method-not-allowed', allow: ['GET'] });
  });
});

describe('PathRouter remove', () => {
  test('removing a registration lets the next-best match answer, for params and catch-alls', () => {
    const r = new PathRouter<string>();
    r.add('/a/{id}', ['GET'], 'param');
    r.add('/a/*', ['GET'], 'rest');
    r.add('/a/static', ['GET'], 'static');
    r.remove('/a/static', 'static');
    const p = r.find('GET', '/a/static');
    assert.equal(p.kind === 'found' && p.value, 'param');
    r.remove('/a/{id}', 'param');
    const c = r.find('GET', '/a/1');
    assert.equal(c.kind === 'found' && c.value, 'rest');
    r.remove('/a/*', 'rest');
    assert.equal(r.find('GET', '/a/1').kind, 'not-found');
  });

  test('a removed value shows what it hid for the same pattern and method; other values and unknown patterns are untouched', () => {
    const r = new PathRouter<string>();
    r.add('/x', ['GET'], 'early', 'a');
    r.add('/x', ['GET', 'POST'], 'late', 'b');
    let m = r.find('GET', '/x');
    assert.equal(m.kind === 'found' && m.value, 'late');
    r.remove('/nowhere/{y}', 'late');
    r.remove('/x', 'other');
    m = r.find('POST', '/x');
    assert.equal(m.kind === 'found' && m.value, 'late');
    r.remove('/x', 'late');
    m = r.find('GET', '/x');
    assert.equal(m.kind === 'found' && m.value, 'early');
    assert.equal(r.find('POST', '/x').kind, 'method-not-allowed');
    // Registered out of order: the later order still wins.
    r.add('/x', ['GET'], 'zz', 'z');
    r.add('/x', ['GET'], 'mm', 'm');
    m = r.find('GET', '/x');
    assert.equal(m.kind === 'found' && m.value, 'zz');
  });
});

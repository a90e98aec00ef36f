import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError } from '../core/errors.js';
import { compileHostPattern, type DomainEntry, hostOf, NamespaceResolver } from './domains.js';

function matches(pattern: string, host: string): boolean {
  return compileHostPattern(pattern)(host);
}

describe('compileHostPattern', () => {
  test('* alone matches anything, and runs of * collapse', () => {
    for (const pattern of ['*', '**', '***']) {
      assert.ok(matches(pattern, 'example.com'));
      assert.ok(matches(pattern, ''));
    }
    assert.ok(matches('**.example.com', 'a.example.com'));
    assert.ok(matches('api.**', 'api.example.com'));
  });

  test('*x is a suffix match', () => {
    assert.ok(matches('*.example.com', 'a.example.com'));
    assert.ok(matches('*.example.com', 'a.b.example.com'));
    assert.ok(!matches('*.example.com', 'example.com'));
    assert.ok(!matches('*.example.com', 'a.example.com.evil'));
    assert.ok(matches('*test.com', 'abctest.com'));
    assert.ok(matches('*test.com', 'test.com'));
  });

  test('x* is a prefix match', () => {
    assert.ok(matches('admin.*', 'admin.example.com'));
    assert.ok(!matches('admin.*', 'admin'));
    assert.ok(!matches('admin.*', 'xadmin.example.com'));
  });

  test('*x* is a contains match', () => {
    assert.ok(matches('*example*', 'www.example.com'));
    assert.ok(matches('*example*', 'example'));
    assert.ok(!matches('*example*', 'www.exampl.com'));
  });

  test('a * in the middle is literal', () => {
    assert.ok(matches('a*b.com', 'a*b.com'));
    assert.ok(!matches('a*b.com', 'axb.com'));
    assert.ok(!matches('a*b.com', 'ab.com'));
    // Stars at both ends still make a contains match, with the middle star literal.
    assert.ok(matches('*a*b*', 'xa*by'));
    assert.ok(!matches('*a*b*', 'xaby'));
  });

  test('/re/ is an unanchored regex', () => {
    assert.ok(matches('/^(abc|cba).test.com$/', 'abc.test.com'));
    assert.ok(matches('/^(abc|cba).test.com$/', 'cba.test.com'));
    assert.ok(!matches('/^(abc|cba).test.com$/', 'xabc.test.com'));
    assert.ok(!matches('/^(abc|cba).test.com$/', 'abc.test.com.evil'));
    assert.ok(matches('/test/', 'a.test.b'));
    assert.ok(matches('/[0-9]+/', 'host42.local'));
    assert.ok(!matches('/[0-9]+/', 'host.local'));
  });

  test('anything else is an exact match, including short slash patterns', () => {
    assert.ok(matches('example.com', 'example.com'));
    assert.ok(!matches('example.com', 'www.example.com'));
    assert.ok(!matches('example.com', 'example.com.'));
    assert.ok(matches('/', '/'));
    assert.ok(matches('//', '//'));
    assert.ok(!matches('//', 'anything'));
  });

  test('literal patterns are case-insensitive', () => {
    assert.ok(matches('Example.COM', 'example.com'));
    assert.ok(matches('*.Example.com', 'www.example.com'));
    assert.ok(matches('ADMIN.*', 'admin.example.com'));
    assert.ok(matches('*XAMPL*', 'example.com'));
  });

  test('regex patterns are case-insensitive', () => {
    assert.ok(matches('/^API\\.example\\.com$/', 'api.example.com'));
  });

  test('rejects an empty pattern and a bad regex with a 400 about patterns', () => {
    for (const pattern of ['', '/(/', '/[a-/']) {
      assert.throws(
        () => compileHostPattern(pattern),
        (err: unknown) => err instanceof GatewayError && err.status === 400 && err.field === 'patterns',
        pattern,
      );
    }
  });
});

describe('hostOf', () => {
  test('lowercases and strips the port', () => {
    assert.equal(hostOf('Example.COM'), 'example.com');
    assert.equal(hostOf('example.com:8080'), 'example.com');
    assert.equal(hostOf('EXAMPLE.com:'), 'example.com');
    assert.equal(hostOf('127.0.0.1:80'), '127.0.0.1');
  });

  test('handles IPv6 literals', () => {
    assert.equal(hostOf('[::1]:8080'), '[::1]');
    assert.equal(hostOf('[::1]'), '[::1]');
    assert.equal(hostOf('[FE80::1]:443'), '[fe80::1]');
    assert.equal(hostOf('::1'), '::1');
    assert.equal(hostOf('fe80::1:2'), 'fe80::1:2');
    assert.equal(hostOf('[::1'), '[::1');
  });

  test('a missing or empty header gives an empty host', () => {
    assert.equal(hostOf(undefined), '');
    assert.equal(hostOf(''), '');
  });
});

function domain(name: string, namespace: string, patterns: string[], priority = 0): DomainEntry {
  return { name, namespace, patterns, priority };
}

describe('NamespaceResolver without domains', () => {
  test('uses the only namespace when there is exactly one', () => {
    const resolver = new NamespaceResolver({ domains: [], namespaces: ['shop'], defaultNamespace: null });
    assert.equal(resolver.resolve('anything.com'), 'shop');
    assert.equal(resolver.resolve(''), 'shop');
  });

  test('the only namespace may be the default one', () => {
    const resolver = new NamespaceResolver({ domains: [], namespaces: ['default'], defaultNamespace: 'default' });
    assert.equal(resolver.resolve('x'), 'default');
  });

  test('uses the default namespace when there are several', () => {
    const resolver = new NamespaceResolver({ domains: [], namespaces: ['a', 'default', 'z'], defaultNamespace: 'default' });
    assert.equal(resolver.resolve('x'), 'default');
  });

  test('resolves nothing with several namespaces and no default, or with no namespace', () => {
    assert.equal(new NamespaceResolver({ domains: [], namespaces: ['a', 'b'], defaultNamespace: null }).resolve('x'), null);
    assert.equal(new NamespaceResolver({ domains: [], namespaces: [], defaultNamespace: null }).resolve('x'), null);
  });
});

describe('NamespaceResolver with domains', () => {
  test('the first matching pattern wins, patterns in their given order', () => {
    const resolver = new NamespaceResolver({
      domains: [domain('d1', 'ns1', ['api.example.com', '*.example.com']), domain('d0', 'ns0', ['*'])],
      namespaces: ['ns0', 'ns1'],
      defaultNamespace: null,
    });
    assert.equal(resolver.resolve('api.example.com'), 'ns1');
    assert.equal(resolver.resolve('www.example.com'), 'ns1');
    assert.equal(resolver.resolve('other.org'), 'ns0');
  });

  test('higher priority is tried first whatever the input order', () => {
    const low = domain('a-low', 'low', ['*.example.com'], 1);
    const high = domain('b-high', 'high', ['www.*'], 10);
    for (const domains of [[low, high], [high, low]]) {
      const resolver = new NamespaceResolver({ domains, namespaces: ['low', 'high'], defaultNamespace: null });
      assert.equal(resolver.resolve('www.example.com'), 'high');
      assert.equal(resolver.resolve('api.example.com'), 'low');
    }
  });

  test('negative priorities sort below zero', () => {
    const resolver = new NamespaceResolver({
      domains: [domain('a', 'neg', ['*'], -5), domain('b', 'zero', ['*'], 0)],
      namespaces: ['neg', 'zero'],
      defaultNamespace: null,
    });
    assert.equal(resolver.resolve('x'), 'zero');
  });

  test('equal priorities: domain name descending, then namespace descending', () => {
    const byName = new NamespaceResolver({
      domains: [domain('alpha', 'ns-alpha', ['*']), domain('zulu', 'ns-zulu', ['*']), domain('mike', 'ns-mike', ['*'])],
      namespaces: ['ns-alpha', 'ns-mike', 'ns-zulu'],
      defaultNamespace: null,
    });
    assert.equal(byName.resolve('x'), 'ns-zulu');

    const byNamespace = new NamespaceResolver({
      domains: [domain('same', 'aaa', ['*']), domain('same', 'zzz', ['*']), domain('same', 'mmm', ['*'])],
      namespaces: ['aaa', 'mmm', 'zzz'],
      defaultNamespace: null,
    });
    assert.equal(byNamespace.resolve('x'), 'zzz');
  });

  test('no match falls back to the default namespace when no domain belongs to it', () => {
    const resolver = new NamespaceResolver({
      domains: [domain('d', 'shop', ['shop.example.com'])],
      namespaces: ['default', 'shop'],
      defaultNamespace: 'default',
    });
    assert.equal(resolver.resolve('shop.example.com'), 'shop');
    assert.equal(resolver.resolve('other.example.com'), 'default');
  });

  test('no match resolves nothing when a domain belongs to the default namespace', () => {
    const resolver = new NamespaceResolver({
      domains: [domain('d', 'shop', ['shop.example.com']), domain('e', 'default', ['default.example.com'])],
      namespaces: ['default', 'shop'],
      defaultNamespace: 'default',
    });
    assert.equal(resolver.resolve('default.example.com'), 'default');
    assert.equal(resolver.resolve('other.example.com'), null);
  });

  test('no match resolves nothing without a default namespace', () => {
    const resolver = new NamespaceResolver({
      domains: [domain('d', 'shop', ['shop.example.com'])],
      namespaces: ['shop'],
      defaultNamespace: null,
    });
    assert.equal(resolver.resolve('other.example.com'), null);
  });

  test('matching is case-insensitive through hostOf', () => {
    const resolver = new NamespaceResolver({
      domains: [domain('d', 'shop', ['Shop.Example.com', '/^API\\./'])],
      namespaces: ['shop'],
      defaultNamespace: null,
    });
    assert.equal(resolver.resolve(hostOf('SHOP.example.COM:8443')), 'shop');
    assert.equal(resolver.resolve(hostOf('Api.other.org')), 'shop');
  });

  test('ports are ignored once the host goes through hostOf', () => {
    const resolver = new NamespaceResolver({
      domains: [domain('d', 'local', ['localhost', '[::1]'])],
      namespaces: ['local'],
      defaultNamespace: null,
    });
    assert.equal(resolver.resolve(hostOf('localhost:8080')), 'local');
    assert.equal(resolver.resolve(hostOf('[::1]:8080')), 'local');
  });

  test('patterns that do not compile are skipped and reported', () => {
    const resolver = new NamespaceResolver({
      domains: [domain('bad', 'broken', ['', '/(/'], 10), domain('good', 'ok', ['*'])],
      namespaces: ['broken', 'ok'],
      defaultNamespace: null,
    });
    assert.equal(resolver.resolve('x'), 'ok');
    assert.deepEqual(
      resolver.skippedPatterns.map((s) => [s.domain, s.pattern]),
      [
        ['bad', ''],
        ['bad', '/(/'],
      ],
    );
  });

  test('a domain whose patterns are all invalid still counts as a domain for the fallbacks', () => {
    const resolver = new NamespaceResolver({
      domains: [domain('bad', 'default', ['/(/'])],
      namespaces: ['default', 'other'],
      defaultNamespace: 'default',
    });
    assert.equal(resolver.resolve('x'), null);
  });
});

describe('NamespaceResolver cache', () => {
  test('repeated hosts give the same answer, including cached misses', () => {
    const resolver = new NamespaceResolver({
      domains: [domain('d', 'shop', ['*.shop.com'])],
      namespaces: ['shop'],
      defaultNamespace: null,
    });
    for (let round = 0; round < 3; round++) {
      assert.equal(resolver.resolve('a.shop.com'), 'shop');
      assert.equal(resolver.resolve('a.other.com'), null);
    }
  });

  test('answers stay correct after the cache fills up and is emptied', () => {
    const resolver = new NamespaceResolver({
      domains: [domain('even', 'even', ['/^h[0-9]*[02468]\\.test$/']), domain('all', 'odd', ['*.test'], -1)],
      namespaces: ['even', 'odd'],
      defaultNamespace: null,
    });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 25_000; i++) {
        assert.equal(resolver.resolve(`h${i}.test`), i % 2 === 0 ? 'even' : 'odd');
      }
    }
  });

  test('resolvers built for different revisions do not share answers', () => {
    const before = new NamespaceResolver({ domains: [domain('d', 'one', ['a.com'])], namespaces: ['one', 'two'], defaultNamespace: null });
    assert.equal(before.resolve('a.com'), 'one');
    const after = new NamespaceResolver({ domains: [domain('d', 'two', ['a.com'])], namespaces: ['one', 'two'], defaultNamespace: null });
    assert.equal(after.resolve('a.com'), 'two');
    assert.equal(before.resolve('a.com'), 'one');
  });
});

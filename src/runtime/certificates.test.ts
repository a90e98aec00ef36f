import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Domain } from '../core/types.js';
import { selfSignedCertificate } from '../tls/self-signed.js';
import { DomainCertificates, serverNameOf } from './certificates.js';
import { compileHostPattern } from './domains.js';

const pem = (cn: string) => selfSignedCertificate({ commonName: cn, hosts: [cn], days: 1 });
const A = pem('a');
const B = pem('b');
const C = pem('c');
const domain = (name: string, patterns: string[], priority: number, c?: { cert: string; key: string }): Domain => ({ name, namespace: 'ns', patterns, priority, ...(c ?? {}) });

test('SNI picks the first domain by priority (then name) whose pattern matches and that has a certificate', () => {
  const certs = new DomainCertificates(
    [
      domain('low', ['api.shop.test'], 1, B),
      domain('high', ['*.shop.test'], 10, A),
      domain('nocert', ['c.test'], 100),
      domain('c', ['c.test', '/^re[0-9]+\\.test$/'], 0, C),
    ],
    null,
  );
  assert.equal(certs.select('api.shop.test')?.cert, A.cert, 'the higher-priority glob wins over a lower exact name');
  assert.equal(certs.select('x.shop.test')?.cert, A.cert);
  assert.equal(certs.select('c.test')?.cert, C.cert, 'a domain without a certificate is passed over');
  assert.equal(certs.select('re42.test')?.cert, C.cert);
  assert.equal(certs.select('unknown.test'), null, 'no match: the listener default');
  assert.equal(certs.select('x.shop.test'), certs.select('x.shop.test'), 'the same object every time');
});

test('the static list for Bun: exact names get the certificate select() picks, *.x names their own, others are left out', () => {
  const certs = new DomainCertificates([domain('low', ['api.shop.test', 'pre*'], 1, B), domain('high', ['*.shop.test', '/x/'], 10, A)], null);
  assert.deepEqual(
    certs.named.map((n) => [n.serverName, n.certificate.cert === A.cert ? 'A' : 'B']),
    [['*.shop.test', 'A'], ['api.shop.test', 'A']],
  );
  assert.equal(serverNameOf('Example.COM'), 'example.com');
  assert.equal(serverNameOf('**.example.com'), '*.example.com');
  assert.equal(serverNameOf('*example.com'), null);
  assert.equal(serverNameOf('*'), null);
  assert.equal(serverNameOf('/re/'), null);
});

test('with allowed_domains, a name outside them gets no domain certificate', () => {
  const certs = new DomainCertificates([domain('a', ['a.test', 'b.test'], 0, A)], compileHostPattern('a.test'));
  assert.equal(certs.select('a.test')?.cert, A.cert);
  assert.equal(certs.select('b.test'), null);
  assert.deepEqual(certs.named.map((n) => n.serverName), ['a.test']);
});

test('a stored pair that cannot serve TLS is left out instead of breaking the listener', () => {
  const certs = new DomainCertificates([domain('bad', ['a.test'], 5, { cert: A.cert, key: B.key }), domain('good', ['a.test'], 0, C)], null);
  assert.equal(certs.select('a.test')?.cert, C.cert);
});

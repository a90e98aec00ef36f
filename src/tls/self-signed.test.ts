import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { test } from 'node:test';
import { selfSignedCertificate } from './self-signed.js';

test('every generated certificate is valid DER that TLS accepts (its random serial is a minimal positive INTEGER)', () => {
  // a serial starting with a zero byte was refused about once in 200 certificates
  for (let i = 0; i < 600; i++) {
    const c = selfSignedCertificate({ commonName: 'localhost', hosts: ['localhost', '127.0.0.1', '::1'], days: 30 });
    const x = new X509Certificate(c.cert);
    const serial = x.serialNumber;
    assert.ok(!/^00/.test(serial) && parseInt(serial.slice(0, 2), 16) < 0x80, `serial ${serial}`);
    assert.doesNotThrow(() => tls.createSecureContext({ cert: c.cert, key: c.key }), `certificate ${i} refused`);
  }
});

test('the certificate names its hosts and checks against its own key', () => {
  const c = selfSignedCertificate({ commonName: 'gw.test', hosts: ['gw.test', '10.0.0.1'], days: 1 });
  const x = new X509Certificate(c.cert);
  assert.match(x.subject, /CN=gw\.test/);
  assert.match(x.subjectAltName ?? '', /DNS:gw\.test/);
  assert.match(x.subjectAltName ?? '', /IP Address:10\.0\.0\.1/);
  assert.ok(x.verify(x.publicKey), 'self-signed: its signature verifies with its own key');
});

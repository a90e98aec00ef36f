import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isIpOrCidr } from './ip.js';

test('isIpOrCidr accepts IPv4/IPv6 addresses and CIDRs', () => {
  for (const ok of ['127.0.0.1', '::1', '10.0.0.0/8', '127.0.0.1/8', '0.0.0.0/0', 'fd00::/8', '::/0', '2001:db8::1/128']) {
    assert.equal(isIpOrCidr(ok), true, ok);
  }
});

test('isIpOrCidr rejects anything else', () => {
  for (const bad of ['', 'localhost', '10.0.0.0/33', '::1/129', '10.0.0/8', '10.0.0.0/', '10.0.0.0/x', '/8', '1.2.3.4/8/9', '256.0.0.1']) {
    assert.equal(isIpOrCidr(bad), false, bad);
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../core/errors.js';
import type { Config } from './config.js';
import { buildConfig } from './load.js';

const cwd = '/srv/dgate';
const build = (raw: unknown): Config => buildConfig(raw, { env: {}, cwd });

function throwsConfig(raw: unknown, message: string): void {
  assert.throws(
    () => build(raw),
    (err: unknown) => {
      assert.ok(err instanceof GatewayError, `not a GatewayError: ${String(err)}`);
      assert.equal(err.code, 'DG_ERR_CONFIG');
      assert.equal(err.message, message);
      return true;
    },
  );
}

const etcd = (extra: Record<string, unknown> = {}) => ({ storage: { type: 'etcd', endpoints: ['http://127.0.0.1:2379'], ...extra } });

test('storage.type etcd with its defaults', () => {
  const s = build(etcd()).storage;
  assert.equal(s.type, 'etcd');
  assert.deepEqual(s.endpoints, ['http://127.0.0.1:2379']);
  assert.equal(s.prefix, '/dgate/');
  assert.equal(s.username, null);
  assert.equal(s.password, null);
  assert.equal(s.tls, null);
  assert.equal(s.dialTimeoutMs, 2_000);
  assert.equal(s.requestTimeoutMs, 1_500);
  assert.equal(s.dir, '/srv/dgate/.dgate', 'storage.dir keeps the local snapshot');
});

test('storage etcd keys are read, TLS files resolved against the working directory', () => {
  const s = build(
    etcd({
      endpoints: ['https://e1:2379', 'https://e2:2379'],
      prefix: '/gw-a/',
      username: 'dgate',
      password: 'secret',
      tls: { ca_file: 'tls/ca.pem', cert_file: '/etc/dgate/client.pem', key_file: 'tls/client-key.pem' },
      dial_timeout: '3s',
      request_timeout: '750ms',
    }),
  ).storage;
  assert.deepEqual(s.endpoints, ['https://e1:2379', 'https://e2:2379']);
  assert.equal(s.prefix, '/gw-a/');
  assert.equal(s.username, 'dgate');
  assert.equal(s.password, 'secret');
  assert.deepEqual(s.tls, { caFile: '/srv/dgate/tls/ca.pem', certFile: '/etc/dgate/client.pem', keyFile: '/srv/dgate/tls/client-key.pem' });
  assert.equal(s.dialTimeoutMs, 3_000);
  assert.equal(s.requestTimeoutMs, 750);
});

test('storage etcd: bad values name the key', () => {
  throwsConfig({ storage: { type: 'etcd' } }, 'config: storage.endpoints: at least one endpoint is required when storage.type is etcd');
  throwsConfig(etcd({ endpoints: ['e1:2379'] }), 'config: storage.endpoints[0]: expected an http:// or https:// URL, got "e1:2379"');
  throwsConfig(etcd({ endpoints: ['not a url'] }), 'config: storage.endpoints[0]: expected a URL such as http://127.0.0.1:2379, got "not a url"');
  throwsConfig(etcd({ endpoints: ['http://e1:2379/v3'] }), 'config: storage.endpoints[0]: expected scheme://host:port only, got "http://e1:2379/v3"');
  throwsConfig(etcd({ endpoints: 'http://e1:2379' }), 'config: storage.endpoints: expected a list of strings, got "http://e1:2379"');
  throwsConfig(etcd({ prefix: '' }), 'config: storage.prefix: must not be empty');
  throwsConfig(etcd({ password: 'p' }), 'config: storage.password: set storage.username too');
  throwsConfig(etcd({ request_timeout: 0 }), 'config: storage.request_timeout: must be greater than 0');
  throwsConfig(etcd({ dial_timeout: '0s' }), 'config: storage.dial_timeout: must be greater than 0');
  throwsConfig(
    etcd({ request_timeout: 'soon' }),
    'config: storage.request_timeout: expected a duration such as "500ms", "1.5s", "1h30m" or integer nanoseconds, got "soon"',
  );
  throwsConfig(etcd({ tls: { cert_file: 'c.pem' } }), 'config: storage.tls.key_file: cert_file and key_file go together');
  throwsConfig(etcd({ tls: { key_file: 'k.pem' } }), 'config: storage.tls.cert_file: cert_file and key_file go together');
  throwsConfig(etcd({ tls: { ca: 'x' } }), 'config: storage.tls.ca: unknown key');
});

test('etcd-only storage keys are refused for file and memory storage, naming the key', () => {
  throwsConfig({ storage: { endpoints: ['http://127.0.0.1:2379'] } }, 'config: storage.endpoints: only applies to storage.type etcd (storage.type is file)');
  throwsConfig({ storage: { type: 'memory', prefix: '/x/' } }, 'config: storage.prefix: only applies to storage.type etcd (storage.type is memory)');
  throwsConfig({ storage: { type: 'file', tls: { ca_file: 'ca.pem' } } }, 'config: storage.tls: only applies to storage.type etcd (storage.type is file)');
  throwsConfig({ storage: { request_timeout: '1s' } }, 'config: storage.request_timeout: only applies to storage.type etcd (storage.type is file)');
  // absent or null: fine
  assert.equal(build({ storage: { type: 'memory', endpoints: null } }).storage.type, 'memory');
});

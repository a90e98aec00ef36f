import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConfig } from './load.js';

const cwd = '/tmp';
const build = (proxy: Record<string, unknown>) => buildConfig({ proxy }, { env: {}, cwd }).proxy;

function throwsConfig(proxy: Record<string, unknown>, message: string): void {
  assert.throws(() => build(proxy), (err: Error) => {
    assert.equal(err.message, message);
    return true;
  });
}

test('listener limits have production defaults', () => {
  const p = build({});
  assert.deepEqual(
    [p.maxHeaderBytes, p.maxUrlBytes, p.maxBodyBytes, p.readHeaderTimeoutMs, p.readTimeoutMs, p.idleTimeoutMs, p.maxConnections],
    [16_384, 8_192, 0, 10_000, 60_000, 60_000, 10_000],
  );
});

test('listener limits are read from proxy.* keys (durations as Go strings)', () => {
  const p = build({ max_header_bytes: 32768, max_url_bytes: '4096', max_body_bytes: 1_000_000, read_header_timeout: '5s', read_timeout: '30s', idle_timeout: '1m', max_connections: 0 });
  assert.deepEqual(
    [p.maxHeaderBytes, p.maxUrlBytes, p.maxBodyBytes, p.readHeaderTimeoutMs, p.readTimeoutMs, p.idleTimeoutMs, p.maxConnections],
    [32_768, 4_096, 1_000_000, 5_000, 30_000, 60_000, 0],
  );
});

test('bad listener limits stop start-up naming the key', () => {
  throwsConfig({ max_header_bytes: 100 }, 'config: proxy.max_header_bytes: expected an integer from 1024 to 1048576, got 100');
  throwsConfig({ max_url_bytes: 'big' }, 'config: proxy.max_url_bytes: expected an integer from 256 to 1048576, got "big"');
  throwsConfig({ max_body_bytes: -1 }, 'config: proxy.max_body_bytes: expected an integer >= 0, got -1');
  throwsConfig({ max_connections: 1.5 }, 'config: proxy.max_connections: expected an integer >= 0, got 1.5');
  throwsConfig({ read_header_timeout: 'soon' }, 'config: proxy.read_header_timeout: expected a duration such as "500ms", "1.5s", "1h30m" or integer nanoseconds, got "soon"');
  throwsConfig({ read_header_timeout: 0 }, 'config: proxy.read_header_timeout: must be greater than 0 (clients that never finish their request head would hold their connection)');
  throwsConfig({ read_header_timeout: '20s', read_timeout: '10s' }, 'config: proxy.read_timeout: must be 0 or at least proxy.read_header_timeout (20000ms), got 10000ms');
  throwsConfig({ idle_timeout: '5m' }, 'config: proxy.idle_timeout: must be at most 4m15s, got 300000ms');
  throwsConfig({ idle_timeout: '100ms' }, 'config: proxy.idle_timeout: must be 0 or at least 1s, got 100ms');
});

test('proxy.bun_listener takes auto (default), bun_serve or node_http; anything else stops start-up naming it', () => {
  assert.equal(build({}).bunListener, 'auto');
  assert.equal(build({ bun_listener: 'node_http' }).bunListener, 'node_http');
  assert.equal(build({ bun_listener: 'bun_serve' }).bunListener, 'bun_serve');
  assert.throws(() => build({ bun_listener: 'uws' }), /proxy\.bun_listener/);
});

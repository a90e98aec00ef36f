import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../core/errors.js';
import type { Config } from './config.js';
import { buildConfig } from './load.js';

const cwd = '/srv/dgate';
const build = (raw: unknown, env: NodeJS.ProcessEnv = {}): Config => buildConfig(raw, { env, cwd });

function throwsConfig(raw: unknown, message: string, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(
    () => build(raw, env),
    (err: unknown) => {
      assert.ok(err instanceof GatewayError, `not a GatewayError: ${String(err)}`);
      assert.equal(err.code, 'DG_ERR_CONFIG');
      assert.equal(err.message, message);
      return true;
    },
  );
}

test('strings are coerced to integers, booleans and durations when they parse', () => {
  const config = build({
    debug: 'true',
    storage: { history: '50' },
    proxy: {
      port: '${PORT:-80}',
      workers: ' 0 ',
      x_forwarded_for_depth: ' 0 ',
      client_transport: {
        dial_timeout: '250us',
        response_header_timeout: 2_000_000_000,
        idle_conn_timeout: '3000000',
        keep_alive: '1h30m',
        max_conns_per_host: '8',
        disable_keep_alives: 'true',
      },
    },
  });
  assert.equal(config.debug, true);
  assert.equal(config.storage.historyLimit, 50);
  assert.equal(config.proxy.port, 80);
  assert.equal(config.proxy.workers, 0);
  assert.deepEqual(config.proxy.clientTransport, {
    dialTimeoutMs: 0.25,
    responseHeaderTimeoutMs: 2000,
    idleConnTimeoutMs: 3,
    keepAliveMs: 5_400_000,
    maxConnsPerHost: 8,
    disableKeepAlives: true,
    disablePrivateIps: false,
  });
});

test('environment values are substituted before coercion', () => {
  const config = build(
    { proxy: { port: '${PORT:-80}', global_headers: { 'X-Node': '${NODE:-n0}' } }, tags: ['${TAG}', 'x-${MISSING}'] },
    { PORT: '8181', TAG: 'blue' },
  );
  assert.equal(config.proxy.port, 8181);
  assert.deepEqual(config.proxy.globalHeaders, { 'X-Node': 'n0' });
  assert.deepEqual(config.tags, ['blue', 'x-']);
});

test('$(command) is not run: the text is kept', () => {
  assert.equal(build({ version: '$(echo v2)' }).version, '$(echo v2)');
  throwsConfig({ proxy: { port: '$(echo 80)' } }, 'config: proxy.port: expected an integer from 0 to 65535, got "$(echo 80)"');
});

test('numbers are accepted where a string is expected', () => {
  const config = build({ version: 1, tags: [1, 'a'], proxy: { global_headers: { 'X-N': 5 } } });
  assert.equal(config.version, '1');
  assert.deepEqual(config.tags, ['1', 'a']);
  assert.deepEqual(config.proxy.globalHeaders, { 'X-N': '5' });
});

test('null values count as absent; an empty admin section is fine', () => {
  const config = build({ log_level: null, proxy: { port: null }, admin: null });
  assert.equal(config.logLevel, 'info');
  assert.equal(config.proxy.port, 8080);
  assert.equal(config.admin.port, 9080);
  assert.equal(build({ admin: {} }).admin.authMethod, 'none');
});

test('console_log_level defaults to log_level', () => {
  assert.equal(build({ log_level: 'debug' }).proxy.consoleLogLevel, 'debug');
  assert.equal(build({ log_level: 'debug', proxy: { console_log_level: 'error' } }).proxy.consoleLogLevel, 'error');
});

test('storage.dir is resolved against cwd', () => {
  assert.equal(build({ storage: { dir: 'data' } }).storage.dir, '/srv/dgate/data');
  assert.equal(build({ storage: { dir: '/var/lib/dgate' } }).storage.dir, '/var/lib/dgate');
  assert.deepEqual(build({ storage: { type: 'etcd', endpoints: ['http://e1:2379'] } }).storage.endpoints, ['http://e1:2379']);
});

test('test_server: defaults when present, null when absent', () => {
  assert.equal(build({}).testServer, null);
  assert.deepEqual(build({ test_server: { port: 8888, enable_env_vars: true, enable_http2: true } }).testServer, {
    host: '127.0.0.1',
    port: 8888,
    globalHeaders: {},
  });
});

test('DGate keys without effect here are accepted', () => {
  const config = build({
    log_json: true,
    log_color: 'yes',
    proxy: {
      enable_console_logger: true,
      enable_http2: false,
      enable_h2c: 'false',
      client_transport: { max_idle_conns: 100, dns_server: '1.1.1.1:53', force_attempt_http2: true, max_body_bytes: 10 },
    },
    admin: { watch_only: false, replication: {} },
  });
  assert.equal(config.proxy.port, 8080);
});

test('admin auth: basic and key', () => {
  const basic = build({ admin: { auth_method: 'basic', basic_auth: { users: [{ username: 'a', password: 'b' }] } } });
  assert.equal(basic.admin.authMethod, 'basic');
  assert.deepEqual(basic.admin.basicAuth.users, [{ username: 'a', password: 'b' }]);

  const key = build({ admin: { auth_method: 'key', key_auth: { keys: ['k1'], query_param_name: 'key' } } });
  assert.deepEqual(key.admin.keyAuth, { keys: ['k1'], headerName: 'X-DGate-Key', queryParamName: 'key' });
  assert.equal(build({ admin: { key_auth: { keys: ['k'], header_name: 'X-Key' } } }).admin.keyAuth.headerName, 'X-Key');
});

test('init_resources items are kept as written (after substitution)', () => {
  const config = build(
    {
      proxy: {
        init_resources: {
          skip_validation: false,
          namespaces: [{ name: '${NS:-ns1}', tags: ['t'] }],
          routes: [{ name: 'r', paths: ['/'], priority: '${PRIO:-3}', whatever: { deep: 1 } }],
        },
      },
    },
    { NS: 'prod' },
  );
  const init = config.proxy.initResources;
  assert.deepEqual(init.namespaces, [{ name: 'prod', tags: ['t'] }]);
  assert.deepEqual(init.routes, [{ name: 'r', paths: ['/'], priority: '3', whatever: { deep: 1 } }]);
  assert.deepEqual(init.services, []);
});

test('unknown keys are errors naming the full key path', () => {
  throwsConfig({ lgo_level: 'info' }, 'config: lgo_level: unknown key');
  throwsConfig({ proxy: { prot: 80 } }, 'config: proxy.prot: unknown key');
  throwsConfig({ proxy: { client_transport: { dial_timeot: '1s' } } }, 'config: proxy.client_transport.dial_timeot: unknown key');
  throwsConfig({ proxy: { init_resources: { plugins: [] } } }, 'config: proxy.init_resources.plugins: unknown key');
  throwsConfig(
    { admin: { basic_auth: { users: [{ username: 'a', password: 'b', role: 'x' }] } } },
    'config: admin.basic_auth.users[0].role: unknown key',
  );
  throwsConfig({ test_server: { port: 1, hots: 'x' } }, 'config: test_server.hots: unknown key');
});

test('ill-typed values are errors naming the key', () => {
  throwsConfig({ admin: { port: 'abc' } }, 'config: admin.port: expected an integer from 0 to 65535, got "abc"');
  throwsConfig({ proxy: { port: 70000 } }, 'config: proxy.port: expected an integer from 0 to 65535, got 70000');
  throwsConfig({ proxy: { port: 80.5 } }, 'config: proxy.port: expected an integer from 0 to 65535, got 80.5');
  throwsConfig({ proxy: { workers: -1 } }, 'config: proxy.workers: expected an integer >= 0, got -1');
  throwsConfig({ storage: { history: 0 } }, 'config: storage.history: expected an integer >= 1, got 0');
  throwsConfig({ admin: { x_forwarded_for_depth: 'one' } }, 'config: admin.x_forwarded_for_depth: expected an integer, got "one"');
  throwsConfig({ debug: 'yes' }, 'config: debug: expected true or false, got "yes"');
  throwsConfig({ proxy: { strict_mode: 1 } }, 'config: proxy.strict_mode: expected true or false, got 1');
  throwsConfig({ version: { a: 1 } }, 'config: version: expected a string, got a map');
  throwsConfig({ proxy: { host: true } }, 'config: proxy.host: expected a string, got true');
  throwsConfig({ tags: 'a,b' }, 'config: tags: expected a list of strings, got "a,b"');
  throwsConfig({ tags: ['a', ['b']] }, 'config: tags[1]: expected a string, got a list');
  throwsConfig({ proxy: { global_headers: ['X-A'] } }, 'config: proxy.global_headers: expected a map of strings, got a list');
  throwsConfig({ proxy: { global_headers: { 'X-A': { b: 1 } } } }, 'config: proxy.global_headers.X-A: expected a string, got a map');
  throwsConfig({ proxy: 8080 }, 'config: proxy: expected a map of keys, got 8080');
  throwsConfig({ proxy: { init_resources: { routes: { name: 'r' } } } }, 'config: proxy.init_resources.routes: expected a list of maps, got a map');
  throwsConfig({ proxy: { init_resources: { routes: ['r'] } } }, 'config: proxy.init_resources.routes[0]: expected a map, got "r"');
  throwsConfig({ storage: { dir: '' } }, 'config: storage.dir: must not be empty');
});

test('bad enum values name the key and the choices', () => {
  throwsConfig({ log_level: 'verbose' }, 'config: log_level: expected one of debug, info, warn, error, got "verbose"');
  throwsConfig({ storage: { type: 'raft' } }, 'config: storage.type: expected one of memory, file, etcd, got "raft"');
  throwsConfig({ proxy: { console_log_level: 'trace' } }, 'config: proxy.console_log_level: expected one of debug, info, warn, error, got "trace"');
  throwsConfig({ admin: { auth_method: 'oauth' } }, 'config: admin.auth_method: expected one of none, basic, key, got "oauth"');
});

test('bad durations name the key', () => {
  const expected = (key: string, got: string) =>
    `config: proxy.client_transport.${key}: expected a duration such as "500ms", "1.5s", "1h30m" or integer nanoseconds, got ${got}`;
  throwsConfig({ proxy: { client_transport: { dial_timeout: '5 seconds' } } }, expected('dial_timeout', '"5 seconds"'));
  throwsConfig({ proxy: { client_transport: { keep_alive: '-1s' } } }, expected('keep_alive', '"-1s"'));
  throwsConfig({ proxy: { client_transport: { idle_conn_timeout: -5 } } }, expected('idle_conn_timeout', '-5'));
  throwsConfig({ proxy: { client_transport: { response_header_timeout: true } } }, expected('response_header_timeout', 'true'));
});

test('bad admin.allow_list entries name their index', () => {
  throwsConfig({ admin: { allow_list: ['10.0.0.0/8', 'localhost'] } }, 'config: admin.allow_list[1]: not an IP address or CIDR: "localhost"');
  throwsConfig({ admin: { allow_list: ['::1/200'] } }, 'config: admin.allow_list[0]: not an IP address or CIDR: "::1/200"');
});

test('proxy.tls and admin.tls: a port, and cert_file with key_file or auto_generate', () => {
  assert.equal(build({}).proxy.tls, null);
  assert.equal(build({}).admin.tls, null);
  assert.deepEqual(build({ proxy: { tls: { port: 8443, cert_file: 'c.pem', key_file: '/etc/k.pem' } } }).proxy.tls, {
    port: 8443,
    certFile: '/srv/dgate/c.pem',
    keyFile: '/etc/k.pem',
    autoGenerate: false,
  });
  assert.deepEqual(build({ admin: { tls: { port: '9443', auto_generate: true } } }).admin.tls, { port: 9443, certFile: null, keyFile: null, autoGenerate: true });
  throwsConfig({ proxy: { tls: { cert_file: 'c.pem', key_file: 'k.pem' } } }, 'config: proxy.tls.port: required');
  throwsConfig({ proxy: { tls: { port: 443 } } }, 'config: proxy.tls: set cert_file and key_file, or auto_generate: true for a self-signed certificate');
  throwsConfig({ admin: { tls: { port: 9443, cert_file: 'c.pem' } } }, 'config: admin.tls.key_file: cert_file and key_file go together');
  throwsConfig({ admin: { tls: { port: 9443, auto_generate: 'yes' } } }, 'config: admin.tls.auto_generate: expected true or false, got "yes"');
  throwsConfig({ proxy: { port: 8443, tls: { port: 8443, auto_generate: true } } }, 'config: proxy.tls.port: must differ from proxy.port (both are 8443)');
});

test('unsupported DGate features are refused unless absent, false or empty', () => {
  throwsConfig({ proxy: { enable_h2c: 'true' } }, 'config: proxy.enable_h2c: requires proxy.enable_http2: true');
  throwsConfig({ proxy: { enable_http2: true, enable_h2c: true, http2: { max_concurrent_streams: 0 } } }, 'config: proxy.http2.max_concurrent_streams: expected an integer from 1 to 10000, got 0');
  throwsConfig({ admin: { auth_method: 'jwt' } }, 'config: admin.auth_method: "jwt" is not supported yet');
});

test('admin.replication (any sub-key) is refused with how to cluster through etcd instead', () => {
  const message =
    'config: admin.replication: Raft replication is not used here: clusters share state through etcd; set storage.type: etcd and storage.endpoints on every node (and remove admin.replication)';
  throwsConfig({ admin: { replication: { id: 'n1', bootstrap_cluster: true } } }, message);
  throwsConfig({ admin: { replication: { advert_address: 'x:1' } } }, message);
  throwsConfig({ admin: { replication: { raft_config: { heartbeat_timeout: '1s' } } } }, message);
  assert.equal(build({ admin: { replication: {} } }).admin.watchOnly, false, 'an empty section is accepted');
});

test('admin.watch_only and admin.advertise_address', () => {
  assert.equal(build({}).admin.watchOnly, false);
  assert.equal(build({}).admin.advertiseAddress, null, 'null: derived from admin.host and the listening port');
  assert.equal(build({ admin: { watch_only: 'true' } }).admin.watchOnly, true);
  assert.equal(build({ admin: { advertise_address: 'https://gw1.example.com:9080' } }).admin.advertiseAddress, 'https://gw1.example.com:9080');
  throwsConfig({ admin: { watch_only: 'yes' } }, 'config: admin.watch_only: expected true or false, got "yes"');
  throwsConfig({ admin: { advertise_address: 'gw1:9080' } }, 'config: admin.advertise_address: expected an http:// or https:// URL, got "gw1:9080"');
});

test('admin auth requirements', () => {
  throwsConfig({ admin: { auth_method: 'basic' } }, 'config: admin.basic_auth.users: at least one user is required when admin.auth_method is basic');
  throwsConfig(
    { admin: { auth_method: 'basic', basic_auth: { users: [{ username: 'a' }] } } },
    'config: admin.basic_auth.users[0].password: required',
  );
  throwsConfig(
    { admin: { basic_auth: { users: [{ username: '', password: 'p' }] } } },
    'config: admin.basic_auth.users[0].username: must not be empty',
  );
  throwsConfig({ admin: { auth_method: 'key' } }, 'config: admin.key_auth.keys: at least one key is required when admin.auth_method is key');
  throwsConfig({ admin: { auth_method: 'key', key_auth: { keys: [''] } } }, 'config: admin.key_auth.keys[0]: must not be empty');
  throwsConfig(
    { admin: { auth_method: 'key', key_auth: { keys: ['k'], header_name: 'X-K', query_param_name: 'k' } } },
    'config: admin.key_auth: set header_name or query_param_name, not both',
  );
});

test('test_server needs a port when present', () => {
  throwsConfig({ test_server: { host: '0.0.0.0' } }, 'config: test_server.port: required');
  throwsConfig({ test_server: null }, 'config: test_server.port: required');
});

test('disable_metrics is a boolean, off by default', () => {
  assert.equal(build({}).disableMetrics, false);
  assert.equal(build({ disable_metrics: true }).disableMetrics, true);
  assert.equal(build({ disable_metrics: 'false' }).disableMetrics, false);
  throwsConfig({ disable_metrics: 'sometimes' }, 'config: disable_metrics: expected true or false, got "sometimes"');
});

test('settings that would be ignored stop start-up, naming the key and why', () => {
  throwsConfig({ proxy: { init_resources: { skip_validation: true } } }, 'config: proxy.init_resources.skip_validation: not supported: every resource is always validated (remove it or set it to false)');
  throwsConfig({ proxy: { init_resources: { skip_validation: 'true' } } }, 'config: proxy.init_resources.skip_validation: not supported: every resource is always validated (remove it or set it to false)');
  for (const depth of [1, -1, '2']) {
    throwsConfig(
      { proxy: { x_forwarded_for_depth: depth } },
      'config: proxy.x_forwarded_for_depth: not supported yet: the proxy takes the connecting address as the client (X-Real-IP); admin.x_forwarded_for_depth sets it for the admin API',
    );
  }
  // their "off" values pass
  build({ proxy: { x_forwarded_for_depth: 0, init_resources: { skip_validation: false } } });
  build({ proxy: { x_forwarded_for_depth: '0', init_resources: { skip_validation: 'false' } } });
});

test('request ids, tracing and the access log: defaults, values and refusals naming the key', () => {
  const defaults = build({});
  assert.deepEqual(defaults.proxy.requestId, { enabled: true });
  assert.deepEqual(defaults.proxy.tracing, { startTraceparent: false });
  assert.deepEqual(defaults.proxy.accessLog, { enabled: false, sampleRate: 1, file: null });

  const set = build({
    proxy: {
      request_id: { enabled: 'false' },
      tracing: { start_traceparent: true },
      access_log: { enabled: true, sample_rate: '0.25', file: 'logs/access.log' },
    },
  });
  assert.deepEqual(set.proxy.requestId, { enabled: false });
  assert.deepEqual(set.proxy.tracing, { startTraceparent: true });
  assert.deepEqual(set.proxy.accessLog, { enabled: true, sampleRate: 0.25, file: '/srv/dgate/logs/access.log' });
  assert.equal(build({ proxy: { access_log: { sample_rate: 0 } } }).proxy.accessLog.sampleRate, 0);
  assert.equal(build({ proxy: { access_log: { sample_rate: '.5' } } }).proxy.accessLog.sampleRate, 0.5);

  throwsConfig({ proxy: { access_log: { sample_rate: 1.5 } } }, 'config: proxy.access_log.sample_rate: expected a number from 0 to 1, got 1.5');
  throwsConfig({ proxy: { access_log: { sample_rate: -0.1 } } }, 'config: proxy.access_log.sample_rate: expected a number from 0 to 1, got -0.1');
  throwsConfig({ proxy: { access_log: { sample_rate: 'half' } } }, 'config: proxy.access_log.sample_rate: expected a number from 0 to 1, got "half"');
  throwsConfig({ proxy: { access_log: { enabled: 'yes' } } }, 'config: proxy.access_log.enabled: expected true or false, got "yes"');
  throwsConfig({ proxy: { access_log: { file: '' } } }, 'config: proxy.access_log.file: must not be empty');
  throwsConfig({ proxy: { access_log: { rate: 1 } } }, 'config: proxy.access_log.rate: unknown key');
  throwsConfig({ proxy: { request_id: { enabled: 1 } } }, 'config: proxy.request_id.enabled: expected true or false, got 1');
  throwsConfig({ proxy: { request_id: { header: 'X-Id' } } }, 'config: proxy.request_id.header: unknown key');
  throwsConfig({ proxy: { tracing: { start_traceparent: 'on' } } }, 'config: proxy.tracing.start_traceparent: expected true or false, got "on"');
});

test('proxy.websocket: defaults, durations, and refusals naming the key', () => {
  assert.deepEqual(build({}).proxy.websocket, { idleTimeoutMs: 300_000, maxMessageSize: 16 * 1024 * 1024 });
  assert.deepEqual(build({ proxy: { websocket: { idle_timeout: '45s', max_message_size: '1048576' } } }).proxy.websocket, { idleTimeoutMs: 45_000, maxMessageSize: 1_048_576 });
  assert.equal(build({ proxy: { websocket: { idle_timeout: 0 } } }).proxy.websocket.idleTimeoutMs, 0);
  assert.throws(() => build({ proxy: { websocket: { idle_timeout: 'soon' } } }), /proxy\.websocket\.idle_timeout/);
  assert.throws(() => build({ proxy: { websocket: { max_message_size: 10 } } }), /proxy\.websocket\.max_message_size/);
  assert.throws(() => build({ proxy: { websocket: { idle_timout: '1s' } } }), /proxy\.websocket\.idle_timout: unknown key/);
});

test('proxy.module_logs: defaults, values, and refusals naming the key', () => {
  assert.deepEqual(build({}).proxy.moduleLogs, { bufferLines: 1000, rateLimit: 200, maxLineLength: 8192 });
  assert.deepEqual(build({ proxy: { module_logs: { buffer_lines: 0, rate_limit: '50', max_line_length: 1000 } } }).proxy.moduleLogs, { bufferLines: 0, rateLimit: 50, maxLineLength: 1000 });
  assert.throws(() => build({ proxy: { module_logs: { rate_limit: 0 } } }), /config: proxy\.module_logs\.rate_limit: /);
  assert.throws(() => build({ proxy: { module_logs: { buffer_lines: -1 } } }), /config: proxy\.module_logs\.buffer_lines: /);
  assert.throws(() => build({ proxy: { module_logs: { lines: 5 } } }), /config: proxy\.module_logs\.lines: unknown key/);
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GatewayError } from '../core/errors.js';
import type { Config } from './config.js';
import { configuredRuntime, loadConfig, locateConfigFile } from './load.js';

const root = mkdtempSync(join(tmpdir(), 'dgate-config-load-'));
after(() => rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
/** A fresh directory holding the given files. */
function dirWith(files: Record<string, string> = {}): string {
  const dir = join(root, `d${dirCount++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function throwsConfig(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof GatewayError, `not a GatewayError: ${String(err)}`);
    assert.equal(err.code, 'DG_ERR_CONFIG');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('no file anywhere: built-in defaults', () => {
  const cwd = dirWith();
  const config = loadConfig({ argv: [], env: {}, cwd });
  const expected: Config = {
    version: null,
    logLevel: 'info',
    runtime: 'auto',
    nodeId: hostname(),
    debug: false,
    tags: [],
    disableDefaultNamespace: false,
    disableMetrics: false,
    storage: {
      type: 'file',
      dir: join(cwd, '.dgate'),
      historyLimit: 1000,
      endpoints: [],
      prefix: '/dgate/',
      username: null,
      password: null,
      tls: null,
      dialTimeoutMs: 2_000,
      requestTimeoutMs: 1_500,
    },
    proxy: {
      host: '0.0.0.0',
      port: 8080,
      tls: null,
      workers: availableParallelism(),
      globalHeaders: {},
      allowedDomains: [],
      redirectHttps: [],
      strictMode: false,
      moduleTimeoutMs: 30_000,
      moduleWatchdogMs: 5_000,
      disableXForwardedHeaders: false,
      consoleLogLevel: 'info',
      requestId: { enabled: true },
      tracing: { startTraceparent: false },
      accessLog: { enabled: false, sampleRate: 1, file: null },
      maxHeaderBytes: 16_384,
      maxUrlBytes: 8_192,
      maxBodyBytes: 0,
      readHeaderTimeoutMs: 10_000,
      readTimeoutMs: 60_000,
      idleTimeoutMs: 60_000,
      maxConnections: 10_000,
      bunListener: 'auto',
      moduleLogs: { bufferLines: 1000, rateLimit: 200, maxLineLength: 8192 },
      clientTransport: {
        dialTimeoutMs: 10_000,
        responseHeaderTimeoutMs: 0,
        idleConnTimeoutMs: 90_000,
        maxConnsPerHost: 0,
        keepAliveMs: 30_000,
        disableKeepAlives: false,
        disablePrivateIps: false,
      },
      websocket: { idleTimeoutMs: 300_000, maxMessageSize: 16 * 1024 * 1024 },
      initResources: {
        namespaces: [],
        services: [],
        routes: [],
        modules: [],
        domains: [],
        collections: [],
        documents: [],
        secrets: [],
      },
      enableHttp2: false,
      enableH2c: false,
      http2: { maxConcurrentStreams: 100, maxHeaderListSize: 32_768, resetLimit: 200, resetWindowMs: 10_000 },
    },
    admin: {
      host: '127.0.0.1',
      port: 9080,
      tls: null,
      allowList: [],
      xForwardedForDepth: -1,
      authMethod: 'none',
      basicAuth: { users: [] },
      keyAuth: { keys: [], headerName: 'X-DGate-Key', queryParamName: null },
      watchOnly: false,
      advertiseAddress: null,
    },
    testServer: null,
    file: null,
  };
  assert.deepEqual(config, expected);
});

test('node_id defaults to env DGATE_NODE_ID', () => {
  const config = loadConfig({ argv: [], env: { DGATE_NODE_ID: 'node-7' }, cwd: dirWith() });
  assert.equal(config.nodeId, 'node-7');
});

test('the Config is deep-frozen', () => {
  const config = loadConfig({ argv: [], env: {}, cwd: dirWith() });
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.proxy.clientTransport));
  assert.ok(Object.isFrozen(config.proxy.initResources.modules));
  assert.throws(() => {
    (config.proxy as { port: number }).port = 1;
  }, TypeError);
});

const SAMPLE_YAML = `
version: v1
debug: true
log_level: \${LOG_LEVEL:-warn}
disable_default_namespace: true
tags:
  - debug
storage:
  type: memory
  dir: .dgate/data/
test_server:
  port: 8888
  host: 0.0.0.0
  global_headers:
    X-Test-Header: \${TEST_HEADER:-test}
proxy:
  port: \${PORT:-80}
  host: 0.0.0.0
  enable_console_logger: true
  init_resources:
    namespaces:
      - name: "admin"
    services:
      - name: "admin-svc"
        namespace: "admin"
        urls:
          - "http://localhost:9080"
admin:
  port: 9080
  host: 0.0.0.0
  allow_list:
    - "127.0.0.1/8"
    - "::1"
`;

test('reads a YAML file found in cwd (DGate sample config)', () => {
  const cwd = dirWith({ 'config.dgate.yml': SAMPLE_YAML });
  const config = loadConfig({ argv: [], env: { PORT: '8081' }, cwd });
  assert.equal(config.file, join(cwd, 'config.dgate.yml'));
  assert.equal(config.version, 'v1');
  assert.equal(config.debug, true);
  assert.equal(config.logLevel, 'warn');
  assert.deepEqual(config.tags, ['debug']);
  assert.equal(config.storage.type, 'memory');
  assert.equal(config.storage.dir, join(cwd, '.dgate/data'));
  assert.equal(config.proxy.port, 8081);
  assert.deepEqual(config.testServer, { host: '0.0.0.0', port: 8888, globalHeaders: { 'X-Test-Header': 'test' } });
  assert.deepEqual(config.admin.allowList, ['127.0.0.1/8', '::1']);
  assert.deepEqual(config.proxy.initResources.services, [
    { name: 'admin-svc', namespace: 'admin', urls: ['http://localhost:9080'] },
  ]);
});

test('reads a JSON file', () => {
  const cwd = dirWith({ 'config.dgate.json': JSON.stringify({ proxy: { port: 81 }, admin: { port: '9999' } }) });
  const config = loadConfig({ argv: [], env: {}, cwd });
  assert.equal(config.file, join(cwd, 'config.dgate.json'));
  assert.equal(config.proxy.port, 81);
  assert.equal(config.admin.port, 9999);
});

test('cwd lookup order: .yml, then .yaml, then .json', () => {
  const all = dirWith({
    'config.dgate.yml': 'proxy: {port: 1}',
    'config.dgate.yaml': 'proxy: {port: 2}',
    'config.dgate.json': '{"proxy": {"port": 3}}',
  });
  assert.equal(loadConfig({ argv: [], env: {}, cwd: all }).proxy.port, 1);
  const yamlJson = dirWith({ 'config.dgate.yaml': 'proxy: {port: 2}', 'config.dgate.json': '{"proxy": {"port": 3}}' });
  assert.equal(loadConfig({ argv: [], env: {}, cwd: yamlJson }).proxy.port, 2);
  const json = dirWith({ 'config.dgate.json': '{"proxy": {"port": 3}}' });
  assert.equal(loadConfig({ argv: [], env: {}, cwd: json }).proxy.port, 3);
});

test('--config, --config=, -c and -c= name the file (relative to cwd); format by extension', () => {
  const cwd = dirWith({
    'config.dgate.yml': 'proxy: {port: 1}',
    'a.yaml': 'proxy: {port: 11}',
    'b.json': '{"proxy": {"port": 12}}',
    'c.conf': 'proxy:\n  port: 13\n',
  });
  assert.equal(loadConfig({ argv: ['--config', 'a.yaml'], env: {}, cwd }).proxy.port, 11);
  assert.equal(loadConfig({ argv: ['--verbose', '-c', 'b.json'], env: {}, cwd }).proxy.port, 12);
  assert.equal(loadConfig({ argv: ['--config=c.conf'], env: {}, cwd }).proxy.port, 13);
  assert.equal(loadConfig({ argv: [`-c=${join(cwd, 'a.yaml')}`], env: {}, cwd }).proxy.port, 11);
});

test('DG_CONFIG_PATH is used when argv names no file; argv wins over it', () => {
  const cwd = dirWith({ 'config.dgate.yml': 'proxy: {port: 1}', 'env.yml': 'proxy: {port: 21}', 'arg.yml': 'proxy: {port: 22}' });
  assert.equal(loadConfig({ argv: [], env: { DG_CONFIG_PATH: 'env.yml' }, cwd }).proxy.port, 21);
  assert.equal(loadConfig({ argv: ['-c', 'arg.yml'], env: { DG_CONFIG_PATH: 'env.yml' }, cwd }).proxy.port, 22);
  // An empty DG_CONFIG_PATH counts as unset.
  assert.equal(loadConfig({ argv: [], env: { DG_CONFIG_PATH: '' }, cwd }).proxy.port, 1);
});

test('locateConfigFile reports where the file came from', () => {
  const cwd = dirWith({ 'config.dgate.yaml': '' });
  assert.deepEqual(locateConfigFile({ argv: [], env: {}, cwd }), { path: join(cwd, 'config.dgate.yaml'), source: 'working directory' });
  assert.deepEqual(locateConfigFile({ argv: ['-c', '/x.yml'], env: {}, cwd }), { path: '/x.yml', source: '--config' });
  assert.equal(locateConfigFile({ argv: [], env: {}, cwd: dirWith() }), null);
});

test('an empty file means defaults', () => {
  const cwd = dirWith({ 'config.dgate.yml': '# nothing\n' });
  const config = loadConfig({ argv: [], env: {}, cwd });
  assert.equal(config.proxy.port, 8080);
  assert.equal(config.file, join(cwd, 'config.dgate.yml'));
});

test('a missing file named explicitly is an error naming the path', () => {
  const cwd = dirWith({ 'config.dgate.yml': '' });
  throwsConfig(
    () => loadConfig({ argv: ['--config', 'nope.yml'], env: {}, cwd }),
    `config: config file not found: ${join(cwd, 'nope.yml')} (from --config)`,
  );
  throwsConfig(
    () => loadConfig({ argv: [], env: { DG_CONFIG_PATH: '/no/such/dgate.json' }, cwd }),
    'config: config file not found: /no/such/dgate.json (from DG_CONFIG_PATH)',
  );
});

test('--config without a value is an error', () => {
  throwsConfig(() => loadConfig({ argv: ['--config'], env: {}, cwd: dirWith() }), 'config: --config: expected a file path after it');
  throwsConfig(() => loadConfig({ argv: ['-c', '--debug'], env: {}, cwd: dirWith() }), 'config: -c: expected a file path after it');
});

test('syntax errors name the file', () => {
  const cwd = dirWith({ 'bad.json': '{"proxy": ', 'bad.yml': 'proxy: [1,\n', 'list.yml': '- 1\n- 2\n' });
  throwsConfig(() => loadConfig({ argv: ['-c', 'bad.json'], env: {}, cwd }), new RegExp(`^config: ${join(cwd, 'bad.json')}: invalid JSON: `));
  throwsConfig(() => loadConfig({ argv: ['-c', 'bad.yml'], env: {}, cwd }), new RegExp(`^config: ${join(cwd, 'bad.yml')}: invalid YAML: `));
  throwsConfig(() => loadConfig({ argv: ['-c', 'list.yml'], env: {}, cwd }), 'config: expected a map of keys at the top level, got a list');
});

test('substitution applies to file values, with coercion to the key type', () => {
  const cwd = dirWith({
    'config.dgate.yml': [
      'proxy:',
      '  port: ${PORT:-80}',
      '  strict_mode: ${STRICT:-false}',
      '  client_transport:',
      '    dial_timeout: ${DIAL:-1.5s}',
      'admin:',
      '  port: ${ADMIN_PORT}',
    ].join('\n'),
  });
  const config = loadConfig({ argv: [], env: { ADMIN_PORT: '9001', STRICT: 'true' }, cwd });
  assert.equal(config.proxy.port, 80);
  assert.equal(config.proxy.strictMode, true);
  assert.equal(config.proxy.clientTransport.dialTimeoutMs, 1500);
  assert.equal(config.admin.port, 9001);
  throwsConfig(() => loadConfig({ argv: [], env: {}, cwd }), 'config: admin.port: expected an integer from 0 to 65535, got ""');
});

test('configuredRuntime: the runtime key as loadConfig reads it, cheaply when the file allows', () => {
  const cases: Array<[string, string, Record<string, string>, Config['runtime']]> = [
    ['c.yaml', 'log_level: warn\n', {}, 'auto'],
    ['c.yaml', 'runtime: node\nlog_level: warn\n', {}, 'node'],
    ['c.yaml', "log_level: warn\nruntime: 'bun'   # the fast one\n", {}, 'bun'],
    ['c.yml', 'runtime: ${DG_TEST_RUNTIME}\n', { DG_TEST_RUNTIME: 'node' }, 'node'],
    ['c.yaml', 'admin: { port: 1 }\nruntime: bun\nversion: "runtime"\n', {}, 'bun'],
    ['c.json', '{"runtime": "node", "log_level": "warn"}', {}, 'node'],
    ['c.json', '{"log_level": "warn", "admin": {"port": 1}}', {}, 'auto'],
    ['c.json', '{"admin": {"port": 1}, "runtime": "bun"}', {}, 'bun'],
  ];
  for (const [name, text, env, expected] of cases) {
    const cwd = dirWith({ [name]: text });
    const options = { argv: ['-c', name], env, cwd };
    assert.equal(configuredRuntime(options), expected, text);
    assert.equal(loadConfig(options).runtime, expected, text);
  }
  assert.equal(configuredRuntime({ argv: [], env: {}, cwd: dirWith() }), 'auto');
});

test('configuredRuntime: a bad file fails as loadConfig does', () => {
  const cwd = dirWith({ 'bad.yaml': 'runtime: deno\n', 'broken.yaml': 'runtime: [\n' });
  throwsConfig(() => configuredRuntime({ argv: ['-c', 'bad.yaml'], env: {}, cwd }), /runtime/);
  throwsConfig(() => configuredRuntime({ argv: ['-c', 'broken.yaml'], env: {}, cwd }), /invalid YAML/);
  throwsConfig(() => configuredRuntime({ argv: ['-c', 'missing.yaml'], env: {}, cwd }), /config file not found/);
});

test('a large YAML file read with a collector gives the same config, re-created from JSON only when JSON keeps every value', () => {
  const routes = Array.from({ length: 3000 }, (_, i) => `      - { name: r${i}, namespace: default, paths: ["/r/${i}"], methods: [GET], service: up }`).join('\n');
  const yaml = `log_level: warn\nproxy:\n  init_resources:\n    services: [{ name: up, namespace: default, urls: ["http://127.0.0.1:9"] }]\n    routes:\n${routes}\n`;
  assert.ok(yaml.length >= 256 * 1024, `${yaml.length} bytes`);
  const cwd = dirWith({ 'big.yaml': yaml });
  let collections = 0;
  const options = { argv: ['-c', 'big.yaml'], env: {}, cwd };
  const recreated = loadConfig({ ...options, collectGarbage: () => collections++ });
  assert.equal(collections, 1);
  assert.deepEqual(recreated, loadConfig(options));
  assert.equal(recreated.proxy.initResources.routes.length, 3000);
  // a value JSON cannot carry (.inf) keeps the tree as parsed, and the same error as without a collector
  const withInf = dirWith({ 'big.yaml': yaml.replace('log_level: warn', 'log_level: warn\nversion: .inf') });
  collections = 0;
  const tries = [() => loadConfig({ argv: ['-c', 'big.yaml'], env: {}, cwd: withInf, collectGarbage: () => collections++ }), () => loadConfig({ argv: ['-c', 'big.yaml'], env: {}, cwd: withInf })];
  const outcomes = tries.map((f) => {
    try {
      return JSON.stringify(f().version);
    } catch (err) {
      return String((err as Error).message);
    }
  });
  assert.equal(collections, 0);
  assert.equal(outcomes[0], outcomes[1]);
});

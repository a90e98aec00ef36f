/**
 * Composition root: the only place that picks and constructs the adapters (store, data plane or
 * worker pool, admin server) and wires them together.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createAdminServer } from './admin/app.js';
import { Errors } from './core/errors.js';
import { State } from './core/state.js';
import type { Config } from './config/config.js';
import { DataPlane, type DataPlaneOptions } from './proxy/data-plane.js';
import type { UpstreamRequestInfo } from './proxy/forward.js';
import type { ModuleHost } from './modules/host.js';
import { ModuleSets } from './modules/module-sets.js';
import { buildRuntimeTable, noPools } from './runtime/table.js';
import { MemoryStore } from './store/memory.js';
import { SqliteStore } from './store/sqlite.js';
import type { ChangeStore } from './store/store.js';
import { ChangeWriter, type Publish } from './sync/writer.js';
import { runtimeName, runtimeVersion } from './platform/runtime.js';
import { applyStartupResources } from './startup-resources.js';
import { startEchoServer } from './testserver/echo.js';
import { WorkerPool } from './workers/primary.js';

export const VERSION = '0.1.0';

export interface Gateway {
  readonly proxyPort: number;
  readonly adminPort: number;
  /** port of the debug echo server, null when test_server is not configured */
  readonly testServerPort: number | null;
  readonly writer: ChangeWriter;
  /** process ids of the proxy workers (empty when the proxy runs in this process) */
  workerPids(): number[];
  close(): Promise<void>;
}

function openStore(config: Config): ChangeStore {
  switch (config.storage.type) {
    case 'memory':
      return new MemoryStore({ historyLimit: config.storage.historyLimit });
    case 'file':
      return new SqliteStore({ dir: config.storage.dir, historyLimit: config.storage.historyLimit });
    case 'etcd':
      throw Errors.CONFIG('storage.type: etcd is not supported yet');
  }
}

function dataPlaneOptions(config: Config): DataPlaneOptions {
  const p = config.proxy;
  const t = p.clientTransport;
  return {
    server: {
      host: p.host,
      port: p.port,
      strictMode: p.strictMode,
      xForwarded: !p.disableXForwardedHeaders,
      globalHeaders: Object.entries(p.globalHeaders).flat(),
      moduleTimeoutMs: p.moduleTimeoutMs,
    },
    moduleLogLevel: p.consoleLogLevel,
    // A stuck worker can be replaced; with the proxy in the main process the watchdog only logs.
    watchdog: { ms: p.moduleWatchdogMs, kill: p.workers > 0 },
    table: { defaultNamespace: !config.disableDefaultNamespace, allowedDomains: p.allowedDomains, redirectHttps: p.redirectHttps },
    transport: {
      maxConnsPerHost: t.maxConnsPerHost,
      idleConnTimeoutMs: t.idleConnTimeoutMs > 0 ? t.idleConnTimeoutMs : 60_000,
      dialTimeoutMs: t.dialTimeoutMs > 0 ? t.dialTimeoutMs : 10_000,
      responseHeaderTimeoutMs: t.responseHeaderTimeoutMs,
      disableKeepAlives: t.disableKeepAlives,
      disablePrivateIps: t.disablePrivateIps,
    },
  };
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * The host lent to module code while a write is checked: modules' top-level code runs there
 * once, so it may read state but not write it (the write being checked is still in progress).
 */
function checkHost(namespace: string, logger: Logger): ModuleHost {
  const state = State.empty();
  return {
    namespace,
    state: () => state,
    write: () => Promise.reject(new Error('module top-level code cannot write state')),
    log: (level, module, message) => logger.child({ source: 'module', namespace, module })[level]({}, message),
    fetchTimeoutMs: 30_000,
    cache: new Map(),
  };
}

export interface GatewayTooling {
  /** sees every upstream request of an in-process proxy (proxy.workers: 0) */
  onUpstreamRequest?: (request: UpstreamRequestInfo) => void;
}

export async function startGateway(config: Config, logger: Logger, tooling: GatewayTooling = {}): Promise<Gateway> {
  const store = openStore(config);
  const snapshot = await store.load();
  const initial = State.fromItems(snapshot.rev, snapshot.items);
  const planeOptions = dataPlaneOptions(config);

  let ready = false;
  let plane: DataPlane | null = null;
  let pool: WorkerPool | null = null;
  // Bound once the data plane exists; until then there is nothing to make live.
  let publish: Publish = async () => {};
  // Every write is checked by building the runtime table it would produce (route patterns,
  // module compilation and linking) before it is committed.
  const checkModules = new ModuleSets((namespace) => checkHost(namespace, logger));
  const writer = new ChangeWriter(store, initial, (s, c) => publish(s, c), (candidate) => {
    buildRuntimeTable(candidate, planeOptions.table, noPools, checkModules);
  });

  await applyStartupResources(writer, config, logger);

  let proxyPort: number;
  if (config.proxy.workers === 0) {
    plane = new DataPlane(planeOptions, { logger, write: (build) => writer.write(build), onUpstreamRequest: tooling.onUpstreamRequest });
    plane.apply(writer.state);
    const p = plane;
    publish = async (s) => p.apply(s);
    proxyPort = await plane.listen();
  } else {
    pool = new WorkerPool(config.proxy.workers, planeOptions, () => writer.state, logger, { logLevel: config.logLevel, nodeId: config.nodeId }, (changes) => writer.write(() => changes));
    const wp = pool;
    publish = (s, c) => wp.publish(s, c);
    proxyPort = await pool.start();
  }

  const admin = createAdminServer({
    writer,
    history: (from, limit) => store.history(from, limit),
    ready: () => ready,
    version: VERSION,
    defaultNamespace: !config.disableDefaultNamespace,
    allowList: [...config.admin.allowList],
    xForwardedForDepth: config.admin.xForwardedForDepth,
    authMethod: config.admin.authMethod,
    basicUsers: config.admin.basicAuth.users.map((u) => ({ ...u })),
    keyAuth: {
      keys: [...config.admin.keyAuth.keys],
      headerName: config.admin.keyAuth.headerName,
      queryParamName: config.admin.keyAuth.queryParamName ?? undefined,
    },
    logger,
  });
  const adminPort = await listen(admin, config.admin.port, config.admin.host);

  let echo: Awaited<ReturnType<typeof startEchoServer>> | null = null;
  if (config.testServer !== null) {
    echo = await startEchoServer({ host: config.testServer.host, port: config.testServer.port, globalHeaders: { ...config.testServer.globalHeaders } });
  }
  ready = true;
  logger.info({ proxy: `${config.proxy.host}:${proxyPort}`, admin: `${config.admin.host}:${adminPort}`, storage: store.type, rev: writer.state.rev, workers: config.proxy.workers, runtime: `${runtimeName} ${runtimeVersion}` }, 'dgate ready');

  return {
    proxyPort,
    adminPort,
    testServerPort: echo?.port ?? null,
    writer,
    workerPids: () => pool?.pids() ?? [],
    async close() {
      await new Promise<void>((resolve) => {
        admin.close(() => resolve());
        admin.closeAllConnections();
      });
      await echo?.close();
      await plane?.close();
      await pool?.close();
      await store.close();
    },
  };
}

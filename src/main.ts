/**
 * Composition root: the only place that picks and constructs the adapters (store, data plane or
 * worker pool, admin server) and wires them together.
 */
import type { Logger } from 'pino';
import { createAdminServer } from './admin/app.js';
import type { Etcd3 } from 'etcd3';
import { LocalMembership } from './cluster/local.js';
import { defaultAdvertiseAddress, type Membership, type NodeIdentity } from './cluster/membership.js';
import type { Change } from './core/change.js';
import { Errors, GatewayError } from './core/errors.js';
import { State } from './core/state.js';
import { KINDS } from './core/types.js';
import type { Config } from './config/config.js';
import { DataPlane, type DataPlaneOptions } from './proxy/data-plane.js';
import type { UpstreamRequestInfo } from './proxy/forward.js';
import type { ModuleHost } from './modules/host.js';
import { ModuleSets } from './modules/module-sets.js';
import { listen } from './net/listen.js';
import { nodeView, type NodeObservability } from './observability/node-view.js';
import { ProcessObserver } from './observability/process-observer.js';
import { createAdminTlsServer } from './admin/tls.js';
import { loadListenerCertificate } from './tls/listener-certificate.js';
import { ModuleLogBuffer } from './observability/module-log-buffer.js';
import { ModuleLogCollector } from './observability/module-log-collector.js';
import { noPools, TableBuilder } from './runtime/table.js';
import { MemoryStore } from './store/memory.js';
import { SqliteStore } from './store/sqlite.js';
import { readLocalSnapshot, writeLocalSnapshotInBackground } from './store/local-snapshot.js';
import type { ChangeStore, Snapshot } from './store/store.js';
import { LocalSnapshotKeeper } from './sync/local-snapshot-keeper.js';
import { Syncer } from './sync/syncer.js';
import { ChangeWriter } from './sync/writer.js';
import { collectWhenIdle } from './platform/choose.js';
import { bunListenerFor } from './platform/bun-listener-choice.js';
import { DEFAULT_LISTENER_LIMITS } from './platform/listener-limits.js';
import { isBun, runtimeName, runtimeVersion } from './platform/runtime.js';
import { applyStartupResources } from './startup-resources.js';
import { startEchoServer } from './testserver/echo.js';
import { WorkerPool } from './workers/primary.js';

export const VERSION = '0.1.0';

export interface Gateway {
  readonly proxyPort: number;
  readonly adminPort: number;
  /** port of the proxy's TLS listener, null without proxy.tls */
  readonly proxyTlsPort: number | null;
  /** port of the admin API's TLS listener, null without admin.tls */
  readonly adminTlsPort: number | null;
  /** port of the debug echo server, null when test_server is not configured */
  readonly testServerPort: number | null;
  readonly writer: ChangeWriter;
  /** follows the store and owns the node's state */
  readonly syncer: Syncer;
  /** process ids of the proxy workers (empty when the proxy runs in this process) */
  workerPids(): number[];
  close(): Promise<void>;
}

/**
 * The node's store, and the etcd client when the store is etcd (the cluster view shares it). The
 * etcd client (gRPC, protobuf) is loaded only by nodes that use it: it adds ~35 MB to a process.
 */
async function openStore(config: Config): Promise<{ store: ChangeStore; etcd: Etcd3 | null }> {
  switch (config.storage.type) {
    case 'memory':
      return { store: new MemoryStore({ historyLimit: config.storage.historyLimit }), etcd: null };
    case 'file':
      return { store: new SqliteStore({ dir: config.storage.dir, historyLimit: config.storage.historyLimit }), etcd: null };
    case 'etcd': {
      const [{ EtcdStore }, { createEtcdClient }] = await Promise.all([import('./store/etcd.js'), import('./store/etcd-client.js')]);
      const s = config.storage;
      const client = createEtcdClient({
        endpoints: s.endpoints,
        username: s.username,
        password: s.password,
        tls: s.tls,
        dialTimeoutMs: s.dialTimeoutMs,
        requestTimeoutMs: s.requestTimeoutMs,
      });
      return { store: new EtcdStore({ client, prefix: s.prefix, historyLimit: s.historyLimit, closeClient: true }), etcd: client };
    }
  }
}

/**
 * How this node shows itself in the cluster view (`GET /api/v1/cluster`); without
 * `admin.advertise_address`, its admin URL with the port the admin API is bound to (the one
 * the system picked when `admin.port` is 0).
 */
export function nodeIdentity(config: Config, adminPort: number): NodeIdentity {
  return {
    id: config.nodeId,
    address: config.admin.advertiseAddress ?? defaultAdvertiseAddress(config.admin.host, adminPort),
    tags: [...config.tags],
    version: VERSION,
    watchOnly: config.admin.watchOnly,
  };
}

/** On Bun, which server takes the plain port's HTTP/1.1 (`bun_listener`), for the ready line. */
function readyListener(config: Config): { bunListener?: string } {
  const p = config.proxy;
  if (!isBun) return {};
  if (p.enableH2c) return { bunListener: 'node_http (enable_h2c)' };
  const limits = { ...DEFAULT_LISTENER_LIMITS, headerTimeoutMs: p.readHeaderTimeoutMs, maxConnections: p.maxConnections };
  return { bunListener: bunListenerFor(p.bunListener, limits) };
}

function dataPlaneOptions(config: Config): DataPlaneOptions {
  const p = config.proxy;
  const t = p.clientTransport;
  return {
    server: {
      host: p.host,
      port: p.port,
      tls: p.tls === null ? null : { port: p.tls.port, fallback: loadListenerCertificate(p.tls, config.storage.dir, 'proxy') },
      strictMode: p.strictMode,
      xForwarded: !p.disableXForwardedHeaders,
      globalHeaders: Object.entries(p.globalHeaders).flat(),
      moduleTimeoutMs: p.moduleTimeoutMs,
      requestId: p.requestId.enabled,
      startTraceparent: p.tracing.startTraceparent,
      websocket: { idleTimeoutMs: p.websocket.idleTimeoutMs, maxMessageBytes: p.websocket.maxMessageSize },
      limits: {
        maxHeaderBytes: p.maxHeaderBytes,
        maxUrlBytes: p.maxUrlBytes,
        headerTimeoutMs: p.readHeaderTimeoutMs,
        requestTimeoutMs: p.readTimeoutMs,
        idleTimeoutMs: p.idleTimeoutMs,
        maxConnections: p.maxConnections,
      },
      maxBodyBytes: p.maxBodyBytes,
      h2c: p.enableH2c ? { ...p.http2 } : null,
      http2: p.enableHttp2 ? { ...p.http2 } : null,
      bunListener: p.bunListener,
    },
    accessLog: p.accessLog.enabled ? { sampleRate: p.accessLog.sampleRate, file: p.accessLog.file, nodeId: config.nodeId } : null,
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
      keepAliveMs: t.keepAliveMs,
      disablePrivateIps: t.disablePrivateIps,
    },
  };
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

/** How often a node checks that a remote store (etcd) answers, to report itself degraded. */
const STORE_HEALTH_INTERVAL_MS = 1000;
/** Retry interval of start-up resources that could not be written while the store was unreachable. */
const STARTUP_RETRY_MS = 2000;
/** How long the node waits for its workers' metrics and stats (a worker busy in module code is left out). */
const OBSERVE_TIMEOUT_MS = 2000;

/**
 * Loads the node's state from its store. A node on etcd that cannot reach it boots from its
 * local last-known-good snapshot instead (and follows etcd once it answers): returns true then.
 */
async function loadState(syncer: Syncer, config: Config, etcd: Etcd3 | null, logger: Logger): Promise<boolean> {
  try {
    await syncer.start();
    return false;
  } catch (err) {
    const unreachable = err instanceof GatewayError && err.code === Errors.STORE_UNAVAILABLE.code;
    const local = etcd !== null && unreachable ? readLocalSnapshot(config.storage.dir) : null;
    if (local === null) throw err;
    logger.warn({ rev: local.rev, error: (err as Error).message }, 'etcd is unreachable: serving the local last-known-good snapshot until it answers');
    syncer.startFrom(local, (err as Error).message);
    return true;
  }
}

/*
 * Closures made inside startGateway live as long as the gateway and keep every variable of its
 * scope that any of them uses: none of them may use `config`, whose init_resources (10,000 routes
 * are ~10 MB of parsed objects) are not needed once written. The two below take what they need.
 */

function localSnapshotKeeper(dir: string, syncer: Syncer, logger: Logger): LocalSnapshotKeeper {
  return new LocalSnapshotKeeper({ write: (snap: Snapshot) => writeLocalSnapshotInBackground(dir, snap) }, () => syncer.state, logger);
}

/**
 * In a primary with proxy workers, a revision that goes live in a state of at least this many
 * items is followed by a full collection once writes stop (see collectWhenIdle): with 10,000
 * routes, each write leaves 100-150 KB of garbage in this process (admin request, check table,
 * store, publication to the workers, local snapshot), which Bun would leave in place after a
 * burst of writes (an etcd node went from 130 to 200-230 MB over 800-2,000 writes).
 */
const LARGE_STATE_ITEMS = 1000;

function itemCount(state: State): number {
  let n = 0;
  for (const kind of KINDS) n += state.count(kind);
  return n;
}

/**
 * Nothing can be written until etcd answers: tries again in the background (only what differs
 * from the state is written, so nothing at all when the local snapshot already has it).
 */
function retryStartupResources(writer: ChangeWriter, config: Config, logger: Logger, closing: () => boolean): void {
  const retry = () =>
    applyStartupResources(writer, config, logger).catch((err: Error) => {
      if (closing()) return;
      logger.warn({ error: err.message }, 'start-up resources not written yet; retrying');
      setTimeout(retry, STARTUP_RETRY_MS).unref();
    });
  void retry();
}

export async function startGateway(config: Config, logger: Logger, tooling: GatewayTooling = {}): Promise<Gateway> {
  const { store, etcd } = await openStore(config);
  const syncer = new Syncer(store, logger);
  const bootedFromLocal = await loadState(syncer, config, etcd, logger);
  if (store.health !== undefined) syncer.checkHealth(() => store.health!(), STORE_HEALTH_INTERVAL_MS);
  const keeper = etcd === null ? null : localSnapshotKeeper(config.storage.dir, syncer, logger);
  let closing = false;
  const planeOptions = dataPlaneOptions(config);

  let ready = false;
  let plane: DataPlane | null = null;
  let pool: WorkerPool | null = null;
  // Every write is checked by building the runtime table it would produce (route patterns,
  // module compilation and linking) before it is committed; the check table is updated
  // incrementally like the workers' (a route write rebuilds one namespace).
  const checkModules = new ModuleSets((namespace) => checkHost(namespace, logger));
  const checkTable = new TableBuilder(planeOptions.table, noPools, checkModules, { routers: false });
  const writer = new ChangeWriter(store, syncer, (candidate) => {
    const built = checkTable.prepare(candidate);
    return () => built.accept();
  });

  if (!bootedFromLocal) await applyStartupResources(writer, config, logger);
  else retryStartupResources(writer, config, logger, () => closing);

  // Module code (dgate/state) writes through the same path as the admin API, and is refused the
  // same way on a read-only node.
  const watchOnly = config.admin.watchOnly;
  const moduleWrite = (build: (state: State) => Change[]): Promise<State> => (watchOnly ? Promise.reject(Errors.WATCH_ONLY()) : writer.write(build));

  // Metrics and stats: this process's observer (the proxy's too when it runs here), merged with
  // the workers' answers; nothing subscribes to the request path with disable_metrics.
  const observer = config.disableMetrics ? null : new ProcessObserver({ proxy: config.proxy.workers === 0 });
  observer?.start();

  // Module log lines of every proxy process of this node, for GET /api/v1/logs.
  const moduleLogSettings = config.proxy.moduleLogs;
  const moduleLogs = new ModuleLogBuffer(moduleLogSettings.bufferLines);
  const collecting = moduleLogSettings.bufferLines > 0;
  let collector: ModuleLogCollector | null = null;

  let proxyPort: number;
  if (config.proxy.workers === 0) {
    if (collecting) collector = new ModuleLogCollector(moduleLogSettings, (lines) => moduleLogs.append(lines)).start();
    plane = new DataPlane(planeOptions, { logger, write: moduleWrite, onUpstreamRequest: tooling.onUpstreamRequest });
    const p = plane;
    p.apply(syncer.state, true);
    // A state that cannot be built incrementally is tried once from scratch before the revision is refused.
    syncer.setPublisher(async (pub) => {
      try {
        p.apply(pub.state, pub.changes === null || p.rev !== pub.from);
      } catch (err) {
        logger.error({ rev: pub.state.rev, error: (err as Error).message }, 'runtime table update failed; rebuilding it whole');
        p.apply(pub.state, true);
      }
    });
    proxyPort = await plane.listen();
  } else {
    const meta = { logLevel: config.logLevel, nodeId: config.nodeId, observe: observer !== null, moduleLogs: collecting ? { rateLimit: moduleLogSettings.rateLimit, maxLineLength: moduleLogSettings.maxLineLength } : null };
    pool = new WorkerPool(config.proxy.workers, planeOptions, () => syncer.state, logger, meta, (changes) => moduleWrite(() => changes), (lines) => moduleLogs.append(lines));
    const wp = pool;
    syncer.setPublisher((pub) => wp.publish(pub));
    proxyPort = await pool.start();
  }

  // The admin API listens before the node joins the cluster, so that the node's entry can carry
  // the admin port actually bound; /api/v1/cluster answers 503 during the join.
  let joined: Membership | null = null;
  const joining = (): never => {
    throw Errors.CLUSTER_UNAVAILABLE('this node is still joining the cluster');
  };
  const cluster: Membership = {
    self: () => (joined ?? joining()).self(),
    report: (update) => joined?.report(update),
    list: async () => (joined ?? joining()).list(),
    close: async () => joined?.close(),
  };
  const workers = pool;
  const observability: NodeObservability | null =
    observer === null ? null : nodeView(observer, (what) => (workers === null ? Promise.resolve([]) : workers.query(what, OBSERVE_TIMEOUT_MS)));
  const admin = createAdminServer({
    writer,
    cluster,
    observability,
    nodeId: config.nodeId,
    watchOnly,
    history: (from, limit) => store.history(from, limit),
    moduleLogs,
    ready: () => ready,
    health: () => syncer.status(),
    version: VERSION,
    defaultNamespace: !config.disableDefaultNamespace,
    allowList: [...config.admin.allowList],
    xForwardedForDepth: config.admin.xForwardedForDepth,
    debug: config.debug,
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
  const adminTls = config.admin.tls === null ? null : createAdminTlsServer(admin, loadListenerCertificate(config.admin.tls, config.storage.dir, 'admin'));
  const adminTlsPort = adminTls === null ? null : await listen(adminTls, config.admin.tls!.port, config.admin.host);
  const proxyTlsPort = plane?.tlsPort ?? pool?.tlsPort ?? null;

  const identity = nodeIdentity(config, adminPort);
  if (etcd === null) joined = new LocalMembership(identity, () => writer.state.rev);
  else {
    const { EtcdMembership } = await import('./cluster/etcd.js');
    const joinOptions = { client: etcd, prefix: config.storage.prefix, identity, initialRev: syncer.rev, logger };
    try {
      joined = bootedFromLocal ? EtcdMembership.joinInBackground(joinOptions) : await EtcdMembership.join(joinOptions);
    } catch (err) {
      admin.close();
      admin.closeAllConnections();
      throw err;
    }
  }
  const membership = joined;
  // not when this process serves the proxy: a full collection holds the event loop 40-150 ms
  const collectAfterWrites = config.proxy.workers > 0;
  syncer.onLive((rev) => {
    membership.report({ rev, error: syncer.status().error });
    keeper?.live();
    if (collectAfterWrites && itemCount(syncer.state) >= LARGE_STATE_ITEMS) collectWhenIdle();
  });
  syncer.onStatus((status) => membership.report({ rev: Math.max(syncer.liveRev, 0), error: status.error }));
  keeper?.live();

  let echo: Awaited<ReturnType<typeof startEchoServer>> | null = null;
  if (config.testServer !== null) {
    echo = await startEchoServer({ host: config.testServer.host, port: config.testServer.port, globalHeaders: { ...config.testServer.globalHeaders } });
  }
  ready = true;
  logger.info({ proxy: `${config.proxy.host}:${proxyPort}`, admin: `${config.admin.host}:${adminPort}`, proxyTls: proxyTlsPort, adminTls: adminTlsPort, storage: store.type, rev: syncer.rev, workers: config.proxy.workers, node: config.nodeId, tags: config.tags, runtime: `${runtimeName} ${runtimeVersion}`, ...readyListener(config) }, 'dgate ready');

  return {
    proxyPort,
    adminPort,
    proxyTlsPort,
    adminTlsPort,
    testServerPort: echo?.port ?? null,
    writer,
    syncer,
    workerPids: () => pool?.pids() ?? [],
    async close() {
      closing = true;
      await new Promise<void>((resolve) => {
        admin.close(() => resolve());
        admin.closeAllConnections();
      });
      if (adminTls !== null) {
        await new Promise<void>((resolve) => {
          adminTls.close(() => resolve());
          adminTls.closeAllConnections();
        });
      }
      await echo?.close();
      await cluster.close();
      await plane?.close();
      checkModules.close();
      collector?.close();
      await pool?.close();
      await keeper?.flush();
      await syncer.close();
      await store.close();
      observer?.stop();
    },
  };
}

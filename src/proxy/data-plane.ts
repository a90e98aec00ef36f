import type { Logger } from 'pino';
import { AccessLog, type AccessLogOptions } from '../observability/access-log.js';
import type { UpstreamPool } from '../platform/upstream.js';
import type { Change } from '../core/change.js';
import { State } from '../core/state.js';
import { ModuleContext } from '../modules/ctx/context.js';
import { HookRunner } from '../modules/hook-runner.js';
import { callingModule, moduleFrames, moduleInStack } from '../modules/stack-module.js';
import { channels } from '../observability/channels.js';
import { Watchdog } from '../modules/watchdog.js';
import type { ModuleHost, ModuleLogLevel } from '../modules/host.js';
import { ModuleSets } from '../modules/module-sets.js';
import { splitTarget } from '../runtime/upstream-url.js';
import type { Target } from '../runtime/service-runtime.js';
import { TableBuilder, type RuntimeTable, type TableOptions } from '../runtime/table.js';
import type { UpstreamRequestInfo } from './forward.js';
import type { ModuleErrorFields } from './module-pipeline.js';
import { PoolRegistry, type TransportOptions } from './pools.js';
import { RefusalLog } from './refusals.js';
import { ProxyServer, type ProxyServerOptions } from './server.js';

/** Settings of a data plane; plain data, so they can be handed to a worker process. */
export interface DataPlaneOptions {
  server: ProxyServerOptions;
  table: TableOptions;
  transport: TransportOptions;
  /** level filter of module console output (proxy.console_log_level) */
  moduleLogLevel: string;
  /** stuck event loop detection: after ms (0 = off); kill = replace the process (worker processes only) */
  watchdog: { ms: number; kill: boolean };
  /** proxy.access_log when enabled, else null */
  accessLog: AccessLogOptions | null;
}

/** What a data plane needs from the process it runs in. */
export interface DataPlaneEnv {
  logger: Logger;
  /** the gateway's write path (modules' dgate/state writes) */
  write: (build: (state: State) => Change[]) => Promise<State>;
  /** sees every upstream request (tooling only) */
  onUpstreamRequest?: (request: UpstreamRequestInfo) => void;
}

const FETCH_TIMEOUT_MS = 30_000;
const TARGET_CACHE_LIMIT = 1000;
/** time for an upstream's answer to a WebSocket upgrade when neither the service nor the transport sets one */
const WEBSOCKET_HANDSHAKE_MS = 30_000;

/**
 * One proxy listener with its pools and module sets: turns each new state revision into a
 * runtime table and swaps it in. Runs in a worker process, or in the main process when
 * proxy.workers is 0.
 */
export class DataPlane {
  readonly #server: ProxyServer;
  readonly #pools: PoolRegistry;
  readonly #builder: TableBuilder<UpstreamPool>;
  readonly #targets = new Map<string, Target<UpstreamPool>>();
  readonly #watchdog: Watchdog | null;
  readonly #accessLog: AccessLog | null;
  readonly #modules: ModuleSets;
  #state: State = State.empty(-1);

  constructor(opts: DataPlaneOptions, env: DataPlaneEnv) {
    const pools = new PoolRegistry(opts.transport);
    this.#pools = pools;
    const moduleLog = env.logger.child({ source: 'module' });
    // Module console output has its own level filter, within what the gateway logs at all.
    const consoleLog = env.logger.level === 'silent' ? moduleLog : env.logger.child({ source: 'module' }, { level: opts.moduleLogLevel });
    this.#watchdog = opts.watchdog.ms > 0 ? new Watchdog(opts.watchdog.ms, opts.watchdog.kill) : null;
    const s = opts.server;
    const runner = new HookRunner(s.moduleTimeoutMs, this.#watchdog);
    // One dgate/storage cache per namespace for the life of the process (module changes keep it).
    const caches = new Map<string, ModuleHost['cache']>();
    const cacheOf = (ns: string) => caches.get(ns) ?? caches.set(ns, new Map()).get(ns)!;
    const modules = (this.#modules = new ModuleSets((namespace) => moduleHost(namespace, () => this.#state, env, consoleLog, runner, cacheOf(namespace))));
    this.#builder = new TableBuilder(opts.table, pools, modules);
    const refusals = new RefusalLog(env.logger.child({ source: 'listener' }));
    this.#server = new ProxyServer(
      { host: s.host, port: s.port, tls: s.tls, h2c: s.h2c, http2: s.http2, limits: s.limits, bunListener: s.bunListener, onRefusal: refusals.note, onTlsError: (err) => env.logger.error({ error: err.message }, 'domain certificates not applied; the TLS listener keeps the previous ones') },
      {
        strictMode: s.strictMode,
        identity: { requestId: s.requestId, startTraceparent: s.startTraceparent },
        httpsPort: null,
        maxBodyBytes: s.maxBodyBytes,
        onRefusal: refusals.note,
        xForwarded: s.xForwarded,
        globalHeaders: s.globalHeaders,
        runner,
        onUpstreamError: (err, route, target) =>
          env.logger.warn({ namespace: route.namespace, route: route.name, upstream: target.origin, error: err.message }, 'upstream request failed'),
        logModuleError: (fields, requestId) => {
          moduleLog.error(fields, 'module function failed');
          if (channels.moduleLog.hasSubscribers) publishModuleError(fields, requestId);
        },
        onUpstreamRequest: env.onUpstreamRequest ?? null,
        targetFor: (url) => this.#targetFor(url),
        websocket: {
          ...s.websocket,
          connectTimeoutMs: opts.transport.dialTimeoutMs,
          handshakeTimeoutMs: opts.transport.responseHeaderTimeoutMs > 0 ? opts.transport.responseHeaderTimeoutMs : WEBSOCKET_HANDSHAKE_MS,
          disablePrivateIps: opts.transport.disablePrivateIps,
        },
      },
    );
    this.#accessLog = opts.accessLog === null ? null : new AccessLog(opts.accessLog).start();
  }

  /** A fetchUpstream URL as a target with its pool (cached: module code usually returns a few URLs). */
  #targetFor(url: string): Target<UpstreamPool> {
    let t = this.#targets.get(url);
    if (t === undefined) {
      const base = splitTarget(url);
      t = { ...base, pool: this.#pools.pool({ origin: base.origin, tlsSkipVerify: false, connectTimeoutMs: 0, http2: false }) };
      if (this.#targets.size >= TARGET_CACHE_LIMIT) this.#targets.clear();
      this.#targets.set(url, t);
    }
    return t;
  }

  /** revision currently served, -1 before the first state */
  get rev(): number {
    return this.#server.table?.rev ?? -1;
  }

  /** the table served (null before the first state) */
  get table(): RuntimeTable<UpstreamPool> | null {
    return this.#server.table;
  }

  /**
   * Builds the table of `state` and serves it from the next request on. Only what changed since
   * the state applied before is rebuilt (see TableBuilder); `full` rebuilds everything. Throws
   * (and keeps serving the previous table) when the state cannot be built. `seenAt` (ms since
   * the epoch) is when the node saw the revision: the revision-applied event reports the time
   * from then until it is served.
   */
  apply(state: State, full = false, seenAt = Date.now()): void {
    if (full) this.#builder.reset();
    const candidate = this.#builder.prepare(state);
    const previous = this.#state;
    this.#state = state;
    try {
      this.#server.swap(candidate.table);
      candidate.accept();
    } catch (err) {
      this.#state = previous;
      throw err;
    }
    if (channels.revisionApplied.hasSubscribers) channels.revisionApplied.publish({ rev: state.rev, applyMs: Math.max(0, Date.now() - seenAt) });
    if (!candidate.rebuilt) return;
    this.#watchdog?.describe(candidate.table.moduleRoutes);
    this.#targets.clear();
    this.#pools.sweep(poolsOf(candidate.table));
  }

  listen(): Promise<number> {
    return this.#server.listen();
  }

  /** the TLS listener's port once listening; null without proxy.tls */
  get tlsPort(): number | null {
    return this.#server.tlsPort;
  }

  /** Stops taking new connections (and closes idle ones); requests in flight finish. */
  stopAccepting(): void {
    void this.#server.close();
  }

  async close(): Promise<void> {
    await this.#server.close();
    this.#modules.close(); // module timers stop with the data plane
    await this.#pools.close();
    await this.#watchdog?.close();
    this.#accessLog?.stop();
  }
}

function* poolsOf(table: RuntimeTable<UpstreamPool>): Iterable<UpstreamPool> {
  for (const ns of table.namespaces.values()) for (const service of ns.services.values()) for (const t of service.targets) yield t.pool;
}

/**
 * A module function that threw, rejected or ran out of time, as a module log line: attributed to
 * the module its stack points into, else to the route's only module (a timeout has no stack).
 */
function publishModuleError(f: ModuleErrorFields, requestId: string | null): void {
  const module = (f.stack === undefined ? null : moduleInStack(f.stack, f.namespace)) ?? (f.modules.length === 1 ? f.modules[0]! : null);
  const frames = f.stack === undefined ? '' : moduleFrames(f.stack);
  const stack = frames.includes(f.error) ? frames : frames === '' ? f.error : `${f.error}\n${frames}`;
  channels.moduleLog.publish({
    namespace: f.namespace,
    module,
    route: f.route,
    requestId,
    level: 'error',
    message: `uncaught error in ${f.phase}: ${stack}`,
    time: Date.now(),
  });
}

function moduleHost(namespace: string, state: () => State, env: DataPlaneEnv, log: Logger, runner: HookRunner, cache: ModuleHost['cache']): ModuleHost {
  return {
    namespace,
    state,
    write: env.write,
    log: (level: ModuleLogLevel, module: string | null, message: string) => {
      const toStdout = log.isLevelEnabled(level);
      const toChannel = channels.moduleLog.hasSubscribers;
      if (!toStdout && !toChannel) return;
      // The route and request of the hook call the code runs for, also after an await in it.
      const name = module ?? callingModule(namespace);
      const call = runner.current();
      const route = call?.scope.name ?? null;
      const requestId = call === null ? null : ModuleContext.requestIdOf(call.ctx);
      if (toStdout) log[level]({ namespace, module: name, route, request_id: requestId }, message);
      if (toChannel) channels.moduleLog.publish({ namespace, module: name, route, requestId, level, message, time: Date.now() });
    },
    fetchTimeoutMs: FETCH_TIMEOUT_MS,
    cache,
  };
}

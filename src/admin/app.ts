import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Membership } from '../cluster/membership.js';
import type { ChangeBatch } from '../core/change.js';
import { Errors, GatewayError } from '../core/errors.js';
import type { ChangeWriter } from '../sync/writer.js';
import type { ModuleLogSource } from '../observability/module-log-buffer.js';
import { allowListGuard } from './allow-list.js';
import type { AuthMethod } from './auth.js';
import { authGuard } from './auth.js';
import { clusterRoutes } from './cluster.js';
import { logRoutes } from './logs.js';
import type { AdminContext, AdminLogger } from './context.js';
import { AdminRequest } from './request.js';
import type { Reply } from './reply.js';
import { RESOURCES } from './resources/index.js';
import { Router } from './router.js';
import { systemRoutes } from './system.js';
import type { NodeObservability } from '../observability/node-view.js';
import { observabilityRoutes } from './observability.js';

export interface AdminOptions {
  /** the single write path; reads come from writer.state */
  writer: ChangeWriter;
  /** committed batches with rev >= fromRev, oldest first (the store's history) */
  history: (fromRev: number, limit: number) => Promise<ChangeBatch[]>;
  /** true once the gateway has loaded its state; writes and /readyz wait for it */
  ready: () => boolean;
  /**
   * Whether the node follows its store (GET /readyz): a degraded node (etcd unreachable, a
   * revision it could not apply) still serves its last state. Absent: always healthy.
   */
  health?: () => { healthy: boolean; error: string | null };
  version: string;
  /** false when `disable_default_namespace` is set */
  defaultNamespace: boolean;
  /** CIDRs or single IPs; empty = no check */
  allowList: string[];
  /** which X-Forwarded-For entry is the client (counted from the last); ≤ 0 = the socket peer */
  xForwardedForDepth: number;
  /** `debug`: verbose refusals (the allow list names the refused address) */
  debug?: boolean;
  authMethod: AuthMethod;
  basicUsers: Array<{ username: string; password: string }>;
  keyAuth: { keys: string[]; headerName?: string; queryParamName?: string };
  /** the cluster view (`GET /api/v1/cluster`): this node alone, or every node sharing the etcd store */
  cluster: Membership;
  /** the node's metrics and stats (GET /metrics, GET /api/v1/stats); null with disable_metrics (both 404); absent: as null */
  observability?: NodeObservability | null;
  /** this node's id (stats answers name it) */
  nodeId?: string;
  /** module log lines of this node (`GET /api/v1/logs`); absent: the endpoint answers no lines */
  moduleLogs?: ModuleLogSource;
  /** `admin.watch_only`: every write (PUT, POST, PATCH, DELETE) is refused with 403 DG_ERR_WATCH_ONLY */
  watchOnly?: boolean;
  now?: () => Date;
  logger?: AdminLogger;
}

const NO_MODULE_LOGS: ModuleLogSource = { query: () => ({ lines: [], dropped: [] }), follow: () => () => {} };

const WRITE_METHODS: ReadonlySet<string> = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);

/**
 * The admin REST API (DGate's paths and envelopes) on node:http; returned not yet listening.
 * Every request passes, in order: the allow list, authentication, routing (404 / 405 with Allow),
 * then the handler. This file is the only place where errors become HTTP answers:
 * `{"error":"<message>","status":S,"code":"DG_ERR_…"}` with the status of the error's registry entry.
 * Every successful write answers with `X-DGate-Revision: <rev>`, the revision this node serves
 * once the write is live here (clients wait for every node of GET /api/v1/cluster to reach it).
 * Invalid options (allow list entries, basic users) throw DG_ERR_CONFIG.
 */
export function createAdminServer(opts: AdminOptions): Server {
  const ctx: AdminContext = {
    writer: opts.writer,
    ready: opts.ready,
    defaultNamespace: opts.defaultNamespace,
    now: opts.now ?? (() => new Date()),
    logger: opts.logger,
  };
  const checkAllowList = allowListGuard(opts.allowList, opts.xForwardedForDepth, opts.debug ?? false);
  const checkAuth = authGuard(opts);
  const router = new Router([
    ...systemRoutes(ctx, opts),
    ...clusterRoutes(ctx, opts.cluster),
    ...observabilityRoutes({ observability: opts.observability ?? null, cluster: opts.cluster, nodeId: opts.nodeId ?? opts.cluster.self().id, keyQueryParam: opts.keyAuth.queryParamName, keyHeader: opts.keyAuth.headerName }),
    ...logRoutes(ctx, opts.moduleLogs ?? NO_MODULE_LOGS),
    ...Object.values(RESOURCES).flatMap((r) => r.routes(ctx)),
  ]);

  async function answer(raw: IncomingMessage): Promise<Reply> {
    const req = new AdminRequest(raw);
    try {
      const refusal = checkAllowList(raw) ?? checkAuth(req);
      if (refusal !== null) return errorReply(refusal.error, refusal.headers);
      const match = router.find(req.method, req.pathname);
      if (!match.found) {
        if (match.allow.length === 0) return errorReply(Errors.ADMIN_NOT_FOUND());
        return errorReply(Errors.METHOD_NOT_ALLOWED(), { Allow: match.allow.join(', ') });
      }
      req.params = match.params;
      const write = WRITE_METHODS.has(req.method);
      if (write && opts.watchOnly === true) return errorReply(Errors.WATCH_ONLY());
      const reply = await match.handler(req);
      if (write && reply.status < 400) reply.headers = { ...reply.headers, 'X-DGate-Revision': String(ctx.writer.state.rev) };
      return reply;
    } catch (err) {
      return errorReply(err);
    }
  }

  function errorReply(err: unknown, headers: Record<string, string> = {}): Reply {
    let e: GatewayError;
    if (err instanceof GatewayError && err.status >= 400 && err.status <= 599) {
      e = err;
    } else {
      opts.logger?.error({ err }, 'admin request failed');
      e = Errors.INTERNAL();
    }
    // After a 413 the rest of the body is not worth reading: close the connection instead.
    if (e.status === 413) headers = { ...headers, Connection: 'close' };
    const body = `${JSON.stringify({ error: e.message, status: e.status, code: e.code })}\n`;
    return { status: e.status, body, headers: { ...headers, 'Content-Type': 'application/json' } };
  }

  return createServer(function handleAdminRequest(req, res) {
    answer(req)
      .then((reply) => send(res, reply))
      .catch((err: unknown) => {
        opts.logger?.error({ err }, 'admin response failed');
        res.destroy();
      });
  });
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { 'X-Content-Type-Options': 'nosniff', ...reply.headers };
  if (reply.stream !== undefined) {
    res.writeHead(reply.status, headers);
    reply.stream(res);
    return;
  }
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers).end();
    return;
  }
  let payload: string;
  if (typeof reply.body === 'string') {
    payload = reply.body;
    headers['Content-Type'] ??= 'text/plain; charset=utf-8';
  } else {
    payload = JSON.stringify(reply.body);
    headers['Content-Type'] = 'application/json';
  }
  headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers).end(payload);
}

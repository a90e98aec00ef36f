import type { ProxyRequest, ProxyResponse } from '../platform/exchange.js';
import type { WebSocketUpgrade } from '../platform/listener.js';
import type { UpstreamPool } from '../platform/upstream.js';
import { ModuleContext } from '../modules/ctx/context.js';
import { withAnswerId } from '../observability/request-id.js';
import { isHookTimeout, type HookRunner } from '../modules/hook-runner.js';
import type { RouteRuntime } from '../runtime/route-runtime.js';
import type { Target } from '../runtime/service-runtime.js';
import type { ForwardOptions } from './forward.js';
import { reply } from './gateway-responses.js';
import { ModuleAnswer } from './module-answer.js';
import { ModuleRequestSource } from './module-request-source.js';
import { meterModuleTime } from './request-meter.js';
import { UpstreamExchange } from './upstream-exchange.js';
import { forwardUpgrade, type WebSocketOptions } from './websocket.js';

/** What the module path needs besides the forwarder's options. */
export interface ModulePathOptions extends ForwardOptions {
  runner: HookRunner;
  /** the target for a fetchUpstream URL (pooled, cached per origin) */
  targetFor: (url: string) => Target<UpstreamPool>;
  /** a module function threw, rejected or ran out of time; `requestId`: the request's X-Request-Id */
  logModuleError: (fields: ModuleErrorFields, requestId: string | null) => void;
  /** WebSocket upgrades (proxy.websocket) */
  websocket: WebSocketOptions;
}

export interface ModuleErrorFields {
  namespace: string;
  route: string;
  modules: readonly string[];
  phase: string;
  error: string;
  stack?: string;
}

/**
 * A request on a route with modules (DGate §3.4, with the original's gaps closed):
 *   with a service:    fetchUpstream → requestModifier* → upstream → responseModifier* → client
 *   without a service: requestModifier* → requestHandler (501 without one; 204 if it wrote nothing)
 * A requestModifier that answers (ctx.response()) short-circuits: no upstream call. A function
 * that throws, rejects or exceeds its budget goes to errorHandler, else to a 500 (504 for the budget).
 * A WebSocket upgrade (`upgrade`) runs fetchUpstream and the requestModifiers the same way (they
 * may change its headers and query, or refuse it by answering), then is tunnelled; the
 * responseModifiers do not run on it.
 */
export function handleModuleRoute(
  req: ProxyRequest,
  res: ProxyResponse,
  route: RouteRuntime<UpstreamPool>,
  path: string,
  query: string,
  params: Record<string, string> | null,
  opts: ModulePathOptions,
  upgrade: WebSocketUpgrade | null = null,
): void {
  const hooks = route.hooks!;
  const ctx = new ModuleContext(req, res, path, query, params, route.info!);
  meterModuleTime(req, ctx);
  const runner = opts.runner;
  let phase = 'fetchUpstream';

  const failed = (err: unknown, status: number) => handleFailure(req, res, route, ctx, err, status, phase, opts);
  const answered = () => ctx.answered;

  const proceed = (target: Target<UpstreamPool> | null): void => {
    phase = 'requestModifier';
    const next = () => {
      try {
        if (ctx.answered) return finishAnswer(ctx, res);
        if (route.service === null) return handle();
        // the client went away (or the listener answered a refused body) while the modifiers ran: nothing goes upstream
        if (res.destroyed || res.writableEnded) return;
        phase = 'upstream';
        if (upgrade !== null) {
          return forwardUpgrade(req, res, upgrade, route, path, query, params, opts, opts.websocket, { ctx, target, onFailure: (err, status) => failed(err, status) });
        }
        const answer = new ModuleAnswer(ctx, runner, (err, status) => {
          phase = status === 500 ? 'responseModifier' : 'upstream';
          failed(err, status);
        });
        new UpstreamExchange(req, res, route, path, query, params, opts, new ModuleRequestSource(ctx, target), answer).start();
      } catch (err) {
        failed(err, 500);
      }
    };
    runner.run(route, hooks.requestModifiers, ctx, answered, next, (err) => failed(err, 500));
  };

  const handle = (): void => {
    if (hooks.requestHandler === null) return reply.notImplemented(res);
    phase = 'requestHandler';
    const p = runner.call(route, hooks.requestHandler, ctx);
    if (p === undefined) return finishAnswer(ctx, res);
    p.then(() => finishAnswer(ctx, res), (err) => failed(err, 500));
  };

  try {
    if (route.service !== null && hooks.fetchUpstream !== null) {
      const url = runner.value(route, hooks.fetchUpstream, ctx);
      if (url instanceof Promise) {
        url.then((u) => proceed(targetOf(u, opts)), (err) => failed(err, 500)).catch((err) => failed(err, 500));
        return;
      }
      proceed(targetOf(url, opts));
    } else {
      proceed(null);
    }
  } catch (err) {
    failed(err, 500);
  }
}

function targetOf(url: unknown, opts: ModulePathOptions): Target<UpstreamPool> {
  if (typeof url !== 'string' || url === '') throw new Error(`fetchUpstream must return an absolute http(s) URL, got ${JSON.stringify(url)}`);
  // ws:// and wss:// name the same servers as http:// and https:// (DGate §3.5)
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url.replace(/^ws(s?):\/\//i, 'http$1://') : `http://${url}`;
  return opts.targetFor(withScheme);
}

/** Ends what module code answered; 204 when a requestHandler wrote nothing. */
export function finishAnswer(ctx: ModuleContext, res: ProxyResponse): void {
  if (res.writableEnded) return;
  const response = ctx.touchedResponse;
  if (response === null || !response.started) {
    if (!res.headersSent) {
      res.writeHead(204, withAnswerId(res, response?.headers.flat() ?? []));
    }
    res.end();
    return;
  }
  response.end();
}

export async function handleFailure(req: ProxyRequest, res: ProxyResponse, route: RouteRuntime<UpstreamPool>, ctx: ModuleContext, err: unknown, status: number, phase: string, opts: ModulePathOptions): Promise<void> {
  const hooks = route.hooks!;
  const e = err instanceof Error || (typeof err === 'object' && err !== null && 'message' in err) ? (err as Error) : new Error(String(err));
  const timedOut = isHookTimeout(e);
  if (status === 500 || timedOut) {
    opts.logModuleError({
      namespace: route.namespace,
      route: route.name,
      modules: hooks.modules,
      phase,
      error: String(e.message ?? e),
      stack: typeof e.stack === 'string' ? hooks.set.mapStack(e.stack) : undefined,
    }, ModuleContext.requestIdOf(ctx));
  }
  if (timedOut) status = 504;
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  if (hooks.errorHandler !== null && !req.destroyed) {
    try {
      ctx.upstreamResponse = null;
      await opts.runner.call(route, hooks.errorHandler, ctx, hooks.set.realmError(e));
    } catch (e2) {
      const inner = e2 as Error;
      opts.logModuleError({ namespace: route.namespace, route: route.name, modules: hooks.modules, phase: 'errorHandler', error: String(inner?.message ?? e2), stack: typeof inner?.stack === 'string' ? hooks.set.mapStack(inner.stack) : undefined }, ModuleContext.requestIdOf(ctx));
      if (!res.headersSent) {
        if (isHookTimeout(e2)) reply.gatewayTimeout(res);
        else reply.internalError(res);
      } else if (!res.writableEnded) res.destroy();
      return;
    }
    if (ctx.answered) return finishAnswer(ctx, res);
  }
  if (res.headersSent) return;
  if (status === 504) reply.gatewayTimeout(res);
  else if (status === 502) reply.badGateway(res);
  else reply.internalError(res);
}

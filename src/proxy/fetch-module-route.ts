import { ModuleContext } from '../modules/ctx/context.js';
import { UpstreamResponse } from '../modules/ctx/upstream.js';
import { MODULE_TIME, type ModuleTime } from '../modules/hook-runner.js';
import { isValidTraceparent, REQUEST_ID_KEY, tagAnswer } from '../observability/request-id.js';
import type { UpstreamPool } from '../platform/upstream.js';
import type { RouteRuntime } from '../runtime/route-runtime.js';
import { editForClient, headerList, responseHeaders } from './answer-headers.js';
import { FetchAnswer, FetchRequestView, headersOf } from './fetch-exchange.js';
import { HOP_BY_HOP, HOP_BY_HOP_AND_LENGTH } from './hop-headers.js';
import { ALREADY_SENT, DROPPED, readFailure } from './module-answer.js';
import { finishAnswer, handleFailure } from './module-pipeline.js';
import { answered, forwardingHeaders, send, type ClientHeaders, type Exchange } from './passthrough.js';
import { upstreamHeaders } from './upstream-request.js';

/**
 * Whether fetchModuleRoute serves a module route: one with a service and no fetchUpstream
 * (requestModifiers, responseModifiers, errorHandler). Decided before anything runs; the others
 * take the pipeline's module path.
 */
export function servesModules(route: RouteRuntime<UpstreamPool>): boolean {
  return route.hooks !== null && route.hooks.fetchUpstream === null;
}

/**
 * A module route served from the fetch API's objects (Bun), for a request passthrough took
 * (no body, a service whose pool can `send`): module code sees the same ctx as on the pipeline's
 * path (module-pipeline.ts), built over a view of the fetch Request and an answer buffered into a
 * Response (fetch-exchange.ts). requestModifiers → upstream (passthrough's send loop: retries,
 * timeout) → responseModifiers → client; an answer from a requestModifier short-circuits; a
 * failure goes to errorHandler as handleFailure does. Asynchronous modifiers are awaited.
 * The upstream's body streams to the client untouched unless a modifier reads or replaces it.
 */
export function fetchModuleRoute(x: Exchange, seen: ClientHeaders, params: Record<string, string> | null, target: string, clientId: string | undefined): Promise<Response> {
  const route = x.route;
  // the view reads the request's own headers with what identification changed (x.headers becomes the upstream's)
  const req = new FetchRequestView(x.request, target, x.client, x.opts.identity.requestId ? x.answerId : undefined, traceOf(x, seen));
  const res = new FetchAnswer();
  if (x.answerId !== undefined) tagAnswer(res, x.answerId);
  const ctx = new ModuleContext(req, res, x.path, x.query, params, route.info!);
  if (x.meter !== null) (ctx as { [MODULE_TIME]?: ModuleTime })[MODULE_TIME] = x.meter;
  const m: ModuleExchange = { x, req, res, ctx, seen, phase: 'requestModifier', readBody: null, answer: 'modifying', failure: null, listFrom: null };
  let pending: Promise<void> | undefined;
  try {
    pending = x.opts.runner.chain(route, route.hooks!.requestModifiers, ctx, isAnswered);
  } catch (err) {
    return failed(m, err, 500, clientId);
  }
  if (pending === undefined) return toUpstream(m, clientId);
  return pending.then(
    () => toUpstream(m, clientId),
    (err) => failed(m, err, 500, clientId),
  );
}

/** the traceparent identification left (null: dropped) when it replaced or dropped the client's; undefined: the client's kept */
function traceOf(x: Exchange, seen: ClientHeaders): string | null | undefined {
  const tp = seen.traceparent;
  if (tp === undefined ? !x.opts.identity.startTraceparent : isValidTraceparent(tp)) return undefined;
  return x.headers.get('traceparent');
}

interface ModuleExchange {
  readonly x: Exchange;
  readonly req: FetchRequestView;
  readonly res: FetchAnswer;
  readonly ctx: ModuleContext;
  readonly seen: ClientHeaders;
  phase: string;
  /** the upstream's body as read for module code (ctx.upstream().readBody()) */
  readBody: Promise<Buffer> | null;
  /** what became of the upstream's answer, for reads that come late (as ModuleAnswer's states) */
  answer: 'modifying' | 'handed-over' | 'replaced' | 'failed';
  failure: unknown;
  /** what ctx.upstream().headers lists when first read: the upstream's Headers (a copy once they were edited for the client) */
  listFrom: Headers | null;
}

/** the chains stop once module code answered */
const isAnswered = (ctx: ModuleContext): boolean => ctx.answered;

/** ctx.upstream().readBody(): the whole body, read once; rejects (saying why) once the body went on, was dropped or the exchange failed */
function readUpstreamBody(m: ModuleExchange, response: Response): Promise<Buffer> {
  if (m.readBody !== null) return m.readBody;
  switch (m.answer) {
    case 'handed-over':
      return Promise.reject(new Error(ALREADY_SENT));
    case 'replaced':
      return Promise.reject(new Error(DROPPED));
    case 'failed':
      return Promise.reject(readFailure(m.failure));
  }
  m.readBody = response.arrayBuffer().then(
    (b) => Buffer.from(b),
    (err) => {
      throw readFailure(err);
    },
  );
  return m.readBody;
}

/** After the requestModifiers: module code's answer, or the request as it left it goes upstream. */
function toUpstream(m: ModuleExchange, clientId: string | undefined): Promise<Response> {
  const { x, ctx, res } = m;
  if (ctx.answered) {
    finishAnswer(ctx, res);
    return Promise.resolve(answeredByModule(m, clientId));
  }
  m.phase = 'upstream';
  const r = ctx.touchedRequest;
  try {
    const edits = r?.touchedHeaders ?? null;
    if (edits === null || !edits.editsAny(FORWARDING)) {
      // the client's headers as identified, with module code's edits (ctx reads its view of the request's own)
      const headers = x.headers;
      edits?.applyTo(headers);
      forwardingHeaders(x, headers, m.seen);
    } else {
      const list = upstreamHeaders(m.req, edits.flat(), x.route, x.service.targets[0], x.opts, r!.body !== null);
      const host = edits.get('host');
      x.headers = headersOf(dropHost(list));
      x.clientHost = x.route.preserveHost && host !== null && host !== '' ? host : null;
    }
  } catch (err) {
    // fetch refuses a header name or value module code set
    return failed(m, err, 500, clientId);
  }
  if (r !== null) {
    x.method = r.method;
    x.query = r.queryString;
    x.body = r.body;
  }
  return send(
    x,
    clientId,
    (_, response) => fromUpstream(m, response),
    (_, status, err) => failure(m, err, (err as { code?: string }).code === 'UND_ERR_INVALID_ARG' ? 500 : status),
  );
}

/** names whose edits passthrough's forwarding headers do not expect (it read the client's): the upstream's headers are built from module code's list then */
const FORWARDING: ReadonlySet<string> = new Set(['host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'content-length', 'transfer-encoding', ...HOP_BY_HOP]);

/** a flat list without its Host (the send loop sets each attempt's) */
function dropHost(list: string[]): string[] {
  for (let i = list.length - 2; i >= 0; i -= 2) if (list[i] === 'Host') list.splice(i, 2);
  return list;
}

/** The upstream's answer through the responseModifiers (a promise only when one is asynchronous or the body is read). */
function fromUpstream(m: ModuleExchange, response: Response): Response | Promise<Response> {
  const { x, ctx } = m;
  const modifiers = x.route.hooks!.responseModifiers;
  if (modifiers.length === 0) return handOver(m, response, null);
  // the upstream's header list is made when module code reads a header (a set alone does not need it)
  m.listFrom = response.headers;
  const drop = dropOf(x);
  const up = new UpstreamResponse(response.status, () => responseHeaders(headerList(m.listFrom!), drop), () => readUpstreamBody(m, response), () => ctx.request().query);
  ctx.upstreamResponse = up;
  m.phase = 'responseModifier';
  let pending: Promise<void> | undefined;
  try {
    pending = x.opts.runner.chain(x.route, modifiers, ctx, isAnswered);
  } catch (err) {
    return modifierFailed(m, response, err);
  }
  if (pending === undefined) return afterModifiers(m, response, up);
  return pending.then(
    () => afterModifiers(m, response, up),
    (err) => modifierFailed(m, response, err),
  );
}

/** the upstream's X-Request-Id is replaced by the request's (when it has one) */
function dropOf(x: Exchange): string | null {
  return x.answerId === undefined ? null : REQUEST_ID_KEY;
}

function modifierFailed(m: ModuleExchange, response: Response, err: unknown): Promise<Response> {
  cancel(m, response);
  m.answer = 'failed';
  m.failure = err;
  return failure(m, err, 500);
}

/** What the responseModifiers left: module code's own answer, a body read or set, or the upstream's answer with their edits. */
function afterModifiers(m: ModuleExchange, response: Response, up: UpstreamResponse): Response | Promise<Response> {
  const ctx = m.ctx;
  if (ctx.answered) {
    m.answer = 'replaced';
    cancel(m, response);
    ctx.response().end();
    return m.res.toResponse();
  }
  if (up.body !== null) {
    m.answer = 'replaced';
    cancel(m, response);
    return withBody(m, up, up.body);
  }
  if (m.readBody !== null) {
    return m.readBody.then(
      (body) => withBody(m, up, body),
      (err) => {
        m.answer = 'failed';
        m.failure = err;
        return failure(m, err, 502);
      },
    );
  }
  return handOver(m, response, up);
}

/** the answer with a body of its own (read whole, or set by a modifier) */
function withBody(m: ModuleExchange, up: UpstreamResponse, body: Buffer): Response {
  const x = m.x;
  const own = m.ctx.touchedResponse?.headers.flat() ?? [];
  const list = [...x.opts.globalHeaders, ...own, ...up.headers.flatWithout(HOP_BY_HOP_AND_LENGTH)];
  if (x.answerId !== undefined) list.push('X-Request-Id', x.answerId);
  const headers = headersOf(list);
  headers.set('Content-Length', String(body.length));
  return new Response(body as unknown as BodyInit, { status: up.statusCode, headers });
}

/** the upstream's answer goes on, its body untouched and its headers edited in place */
function handOver(m: ModuleExchange, response: Response, up: UpstreamResponse | null): Response {
  const x = m.x;
  const h = response.headers;
  m.answer = 'handed-over';
  const own = m.ctx.touchedResponse?.headers.flat();
  // ctx.upstream().headers read later lists the upstream's headers, not the client's. Its list
  // drops hop-by-hop names and X-Request-Id as editForClient does, and module code's edits
  // override the list's values: only global and ctx.response() headers would show, so the
  // upstream's are copied first only when there are some.
  if (up !== null && !up.headers.listed && (x.opts.globalHeaders.length > 0 || (own !== undefined && own.length > 0))) m.listFrom = new Headers(h);
  editForClient(h, dropOf(x), up?.headers ?? null, x.opts.globalHeaders, own, x.answerId);
  if (up === null || up.statusCode === response.status) return response;
  return new Response(response.body, { status: up.statusCode, headers: h });
}

/** the upstream's body is not needed */
function cancel(m: ModuleExchange, response: Response): void {
  if (m.readBody === null && response.body !== null) void response.body.cancel().catch(() => undefined);
}

/** A failure before the upstream's answer: errorHandler or the gateway's answer, then the request's end. */
async function failed(m: ModuleExchange, err: unknown, status: number, clientId: string | undefined): Promise<Response> {
  await failure(m, err, status);
  return answeredByModule(m, clientId);
}

/** handleFailure (errorHandler, else 500/502/504) into the buffered answer */
async function failure(m: ModuleExchange, err: unknown, status: number): Promise<Response> {
  const x = m.x;
  await handleFailure(m.req, m.res, x.route, m.ctx, err, status, m.phase, x.opts);
  return m.res.toResponse();
}

/** an answer written by module code (or the gateway) before any upstream exchange: the request's end goes out with it */
function answeredByModule(m: ModuleExchange, clientId: string | undefined): Response {
  return answered(m.x, m.res.toResponse(), clientId);
}

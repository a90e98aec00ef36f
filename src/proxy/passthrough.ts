import { Errors } from '../core/errors.js';
import { channels } from '../observability/channels.js';
import { REQUEST_ID_HEADER } from '../observability/request-id.js';
import type { FetchClient } from '../platform/listener.js';
import type { ListenerLimits } from '../platform/listener-limits.js';
import type { UpstreamPool } from '../platform/upstream.js';
import { hostOf } from '../runtime/domains.js';
import type { RouteRuntime } from '../runtime/route-runtime.js';
import type { ServiceRuntime, Target } from '../runtime/service-runtime.js';
import type { RuntimeTable } from '../runtime/table.js';
import { upstreamPath, upstreamQuery } from '../runtime/upstream-url.js';
import { CONNECT_ERRORS, IDEMPOTENT, TIMEOUT_ERRORS } from './upstream-failures.js';
import { fetchReply } from './gateway-responses.js';
import { dropHopByHop } from './answer-headers.js';
import { fetchModuleRoute, servesModules } from './fetch-module-route.js';
import { connectionTokens, HOP_BY_HOP } from './hop-headers.js';
import type { PipelineOptions } from './pipeline.js';
import { identifyHeaders } from './request-identity.js';
import { publishEnd, startMeter, type RequestMeter } from './request-meter.js';

/**
 * The passthrough route served from the fetch API's objects (Bun.serve's Request, fetch's
 * Response), without the ProxyRequest/ProxyResponse adapters: a request without a body, to a
 * route with a service and no modules, on a pool that can `send`. Everything else (bodies,
 * modules, WebSocket upgrades, redirects, gateway answers such as 404, requests the listener
 * refuses) is left to the pipeline: `passthrough` returns null before anything is sent or
 * published.
 *
 * It does what handleRequest and forward() (an UpstreamExchange) do for such a request: request
 * id and trace context, hop-by-hop and forwarding headers, retries of connection failures (every
 * method taken here is idempotent or has no body), the service's request timeout (504), 502 on
 * failure, global headers and X-Request-Id on the answer, the request and upstream
 * observability events. The upstream's Response is passed on as it is, its headers edited in
 * place and its body untouched.
 */
export function passthrough(table: RuntimeTable<UpstreamPool> | null, request: Request, target: string, client: FetchClient, opts: PipelineOptions, limits: ListenerLimits): Promise<Response> | null {
  if (table === null || opts.onUpstreamRequest !== null || target.length > limits.maxUrlBytes) return null;
  const method = request.method;
  const clientHeaders = request.headers;
  let host: string | undefined;
  let connection: string | undefined;
  let id: string | undefined;
  let traceparent: string | undefined;
  let tracestate = false;
  let xff: string | undefined;
  /** the client sent X-Real-IP, X-Forwarded-Proto or X-Forwarded-Host */
  let forwarded = false;
  let hasBody = false;
  /** hop-by-hop headers the client sent */
  let hop: string[] | null = null;
  // the head's size as guardHead counts it: request line, then each header line
  let size = method.length + target.length + 12;
  clientHeaders.forEach((value, name) => {
    size += name.length + value.length + 4;
    switch (name) {
      case 'host':
        host = value;
        return;
      case 'x-request-id':
        id = value;
        return;
      case 'traceparent':
        traceparent = value;
        return;
      case 'tracestate':
        tracestate = true;
        return;
      case 'x-forwarded-for':
        xff = value;
        return;
      case 'x-real-ip':
      case 'x-forwarded-proto':
      case 'x-forwarded-host':
        forwarded = true;
        return;
      case 'content-length':
        hasBody = true;
        return;
      case 'connection':
        connection = value;
        break;
      case 'transfer-encoding':
        hasBody = true;
        break;
    }
    if (HOP_BY_HOP.has(name)) (hop ??= []).push(name);
  });
  // a body: limits, deadlines and streaming are the pipeline's
  if (hasBody || size > limits.maxHeaderBytes) return null;
  const hostName = hostOf(host);
  if (table.allowedDomain !== null && !table.allowedDomain(hostName)) return null;
  const nsName = table.resolver.resolve(hostName);
  if (nsName === null) return null;
  if (table.redirectHttps !== null && !client.encrypted && table.redirectHttps(hostName)) return null;
  const ns = table.namespaces.get(nsName);
  if (ns === undefined || ns.router === null) return null;
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const match = ns.router.find(method, path);
  if (match.kind !== 'found') return null;
  const route = match.value;
  const service = route.service;
  if (service === null || service.targets[0].pool.send === undefined) return null;
  // module routes: those fetchModuleRoute serves (else the pipeline's)
  if (route.hooks !== null && !servesModules(route)) return null;

  // the client's headers, request id and trace context settled (what module code sees as the request's)
  const headers = new Headers(clientHeaders);
  const answerId = identifyHeaders(headers, id, traceparent, tracestate, opts.identity);
  const meter = channels.requestStart.hasSubscribers || channels.requestEnd.hasSubscribers ? startMeter() : null;
  if (meter !== null) {
    meter.namespace = nsName;
    meter.route = route.name;
    meter.service = service.name;
  }
  const exchange: Exchange = {
    request,
    method,
    headers,
    clientHost: null,
    connection,
    client,
    route,
    service,
    path,
    query: q === -1 ? '' : target.slice(q + 1),
    rest: match.params === null ? null : (match.params['*'] ?? null),
    answerId,
    meter,
    opts,
    body: null,
  };
  const seen: ClientHeaders = { host, xff, forwarded, hop, connection, traceparent, tracestate };
  if (route.hooks !== null) return fetchModuleRoute(exchange, seen, match.params, target, id);
  forwardingHeaders(exchange, headers, seen);
  return send(exchange, id, editInPlace, gatewayAnswer);
}

/** What passthrough noted of the client's headers while it read them. */
export interface ClientHeaders {
  host: string | undefined;
  xff: string | undefined;
  /** the client sent X-Real-IP, X-Forwarded-Proto or X-Forwarded-Host */
  forwarded: boolean;
  /** hop-by-hop headers the client sent */
  hop: string[] | null;
  connection: string | undefined;
  traceparent: string | undefined;
  /** the client sent a tracestate */
  tracestate: boolean;
}

/**
 * Makes `headers` (the client's, identified) the upstream's in place, minus hop-by-hop, plus
 * forwarding and X-DGate ones (the rules of upstream-request.ts upstreamHeaders); sets
 * x.headers and x.clientHost.
 */
export function forwardingHeaders(x: Exchange, headers: Headers, seen: ClientHeaders): void {
  const { opts, client, route } = x;
  let { host, xff } = seen;
  if (seen.hop !== null) for (const name of seen.hop) headers.delete(name);
  const extraHop = seen.connection === undefined ? null : connectionTokens(seen.connection);
  if (extraHop !== null) {
    for (const name of extraHop) headers.delete(name);
    if (extraHop.has('host')) host = undefined;
    if (extraHop.has('x-forwarded-for')) xff = undefined;
  }
  const clientHost = host ?? '';
  // appended where the client sent none (cheaper than set); names as the pipeline sends them (fetch keeps their case)
  if (opts.xForwarded) {
    const ip = client.remoteAddress;
    if (xff === undefined) headers.append('X-Forwarded-For', ip);
    else headers.set('X-Forwarded-For', `${xff}, ${ip}`);
    if (seen.forwarded) {
      headers.delete('x-real-ip');
      headers.delete('x-forwarded-proto');
      headers.delete('x-forwarded-host');
    }
    headers.append('X-Real-IP', ip);
    headers.append('X-Forwarded-Proto', client.encrypted ? 'https' : 'http');
    if (clientHost !== '') headers.append('X-Forwarded-Host', clientHost);
  }
  const dgate = route.dgateHeaders;
  for (let i = 0; i < dgate.length; i += 2) headers.append(dgate[i], dgate[i + 1]);
  x.headers = headers;
  x.clientHost = route.preserveHost && clientHost !== '' ? clientHost : null;
}

export interface Exchange {
  readonly request: Request;
  /** the upstream request's method (module code may change it) */
  method: string;
  /** the upstream request's headers but Host */
  headers: Headers;
  /** the Host sent upstream when the route preserves the client's; null: each target's */
  clientHost: string | null;
  readonly connection: string | undefined;
  readonly client: FetchClient;
  readonly route: RouteRuntime<UpstreamPool>;
  readonly service: ServiceRuntime<UpstreamPool>;
  readonly path: string;
  /** the upstream request's query (module code may change it) */
  query: string;
  /** the catch-all part of the path (stripPath) */
  readonly rest: string | null;
  readonly answerId: string | undefined;
  readonly meter: RequestMeter | null;
  readonly opts: PipelineOptions;
  /** a body set by module code; null: none */
  body: Buffer | null;
}

/** What becomes of the upstream's answer (its head arrived), and of a failure to get one (502/504, the error). */
export type OnUpstreamAnswer = (x: Exchange, response: Response) => Response | Promise<Response>;
export type OnUpstreamFailure = (x: Exchange, status: 502 | 504, err: Error) => Response | Promise<Response>;

/** The passthrough answer: the upstream's, its headers edited in place (hop-by-hop out, global headers and X-Request-Id in). */
function editInPlace(x: Exchange, response: Response): Response {
  const h = response.headers;
  dropHopByHop(h);
  const global = x.opts.globalHeaders;
  for (let i = 0; i < global.length; i += 2) h.append(global[i], global[i + 1]);
  if (x.answerId !== undefined) h.set(REQUEST_ID_HEADER, x.answerId);
  return response;
}

function gatewayAnswer(x: Exchange, status: 502 | 504): Response {
  return fetchReply(status, x.answerId);
}

/** Sends the request to the service's targets (retrying connection failures) and answers with the upstream's Response, or 502/504. */
export async function send(x: Exchange, clientId: string | undefined, onAnswer: OnUpstreamAnswer, onFailure: OnUpstreamFailure): Promise<Response> {
  const { service, route } = x;
  // aborted when the client goes away
  const clientSignal = x.request.signal;
  const retryable = IDEMPOTENT.has(x.method);
  for (let attempt = 0; ; attempt++) {
    const target = service.next();
    const path = upstreamPath(target, x.path, route.stripPath, x.rest) + upstreamQuery(target, x.query, service.disableQueryParams);
    const headers = x.headers;
    headers.set('Host', x.clientHost ?? target.host);
    const observed = x.meter !== null || channels.upstream.hasSubscribers;
    const sentAt = observed ? performance.now() : 0;
    // the client going away stops the exchange; the service's request timeout too (until the upstream's head)
    let signal = clientSignal;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let timedOut: Error | null = null;
    let stop: (() => void) | null = null;
    if (service.requestTimeoutMs > 0) {
      const ms = service.requestTimeoutMs;
      const ac = new AbortController();
      stop = () => ac.abort(clientSignal.reason);
      clientSignal.addEventListener('abort', stop, { once: true });
      timer = setTimeout(() => {
        timedOut = Errors.UPSTREAM_TIMEOUT(ms);
        ac.abort(timedOut);
      }, ms);
      signal = ac.signal;
    }
    let response: Response;
    try {
      response = await target.pool.send!(path, x.method, headers, signal, x.body);
    } catch (e) {
      const err = timedOut ?? (e instanceof Error ? e : new Error(String(e)));
      if (clientSignal.aborted) {
        // the client went away: nothing to answer
        if (observed) upstreamEnded(x, target, sentAt, null, attempt);
        return answered(x, new Response(null, { status: 502 }), clientId);
      }
      if (observed) upstreamEnded(x, target, sentAt, err, attempt);
      const code = (err as { code?: string }).code ?? '';
      if (retryable && CONNECT_ERRORS.has(code) && attempt < service.retries) {
        const wait = service.retryTimeoutMs;
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (clientSignal.aborted) return answered(x, new Response(null, { status: 502 }), clientId);
        continue;
      }
      x.opts.onUpstreamError(err, route, target);
      const failed = onFailure(x, TIMEOUT_ERRORS.has(code) ? 504 : 502, err);
      return answered(x, failed instanceof Promise ? await failed : failed, clientId);
    } finally {
      if (timer !== null) clearTimeout(timer);
      if (stop !== null) clientSignal.removeEventListener('abort', stop);
    }
    if (observed) upstreamEnded(x, target, sentAt, null, attempt);
    // no await (a microtask) when the answer is at hand
    const answer = onAnswer(x, response);
    return answered(x, answer instanceof Promise ? await answer : answer, clientId);
  }
}

/** The answer as it goes out: the request's end event, then the listener's finish. */
export function answered(x: Exchange, response: Response, clientId: string | undefined): Response {
  if (x.meter === null) return x.client.finish(response, x.connection);
  // 499 (as nginx): the client went away before an answer was sent
  const status = x.request.signal.aborted ? 499 : response.status;
  // read once, for the end event and the listener
  const length = response.headers.get('content-length');
  publishEnd(x.meter, x.method, status, 0, Number(length ?? 0) || 0, x.answerId ?? clientId ?? null);
  return x.client.finish(response, x.connection, length);
}

/** One attempt is over: its time goes to the request's meter and the upstream channel (as UpstreamExchange.upstreamEnded). */
function upstreamEnded(x: Exchange, target: Target<UpstreamPool>, sentAt: number, err: Error | null, attempt: number): void {
  const durationMs = performance.now() - sentAt;
  const m = x.meter;
  if (m !== null) {
    m.upstream = target.origin;
    m.upstreamMs += durationMs;
  }
  if (!channels.upstream.hasSubscribers) return;
  const code = err === null ? null : (err as { code?: string }).code || err.name || 'Error';
  channels.upstream.publish({ namespace: x.route.namespace, service: x.service.name, upstream: target.origin, durationMs, error: code, retry: attempt > 0 });
}


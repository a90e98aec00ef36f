import type { ProxyRequest, ProxyResponse } from '../platform/exchange.js';
import { MODULE_TIME, type ModuleTime } from '../modules/hook-runner.js';
import { channels } from '../observability/channels.js';

const METER = Symbol('dgate.requestMeter');
const START: Readonly<Record<string, never>> = Object.freeze({});

type Metered = ProxyRequest & { [METER]?: RequestMeter };

/**
 * What the request path notes about one request while someone listens to the request-end
 * channel: the pipeline fills in what it resolved, the forwarder the upstream and its time, the
 * module runner the time spent in module code; the end event is published once the answer is
 * done (or the client went away). Created only when observed: an unobserved request pays two
 * `hasSubscribers` checks and one missing-property lookup per stage.
 */
export class RequestMeter implements ModuleTime {
  readonly start = performance.now();
  namespace: string | null = null;
  route: string | null = null;
  service: string | null = null;
  upstream: string | null = null;
  upstreamMs = 0;
  moduleMs = 0;
  /** the answer was cut after its head (UPSTREAM_BODY_BROKE); null: it was not */
  error: string | null = null;
}

/** RequestEndEvent.error of an answer cut because the upstream's body broke after its head */
export const UPSTREAM_BODY_BROKE = 'upstream_body';

/** The meter of an observed request, undefined when nobody listens. */
export function meterOf(req: ProxyRequest): RequestMeter | undefined {
  return (req as Metered)[METER];
}

/** Gives module code's ctx the meter, so the hook runner adds module time to it. */
export function meterModuleTime(req: ProxyRequest, ctx: object): void {
  const m = (req as Metered)[METER];
  if (m !== undefined) (ctx as { [MODULE_TIME]?: ModuleTime })[MODULE_TIME] = m;
}

/**
 * Called first for every proxy request: publishes its start, and when the request's end is
 * observed, starts a meter and publishes the end event when the response closes.
 */
export function observeRequest(req: ProxyRequest, res: ProxyResponse): void {
  if (channels.requestStart.hasSubscribers) channels.requestStart.publish(START);
  if (!channels.requestEnd.hasSubscribers) return;
  const m = new RequestMeter();
  (req as Metered)[METER] = m;
  res.once('close', () => {
    const cl = req.headers['content-length'];
    const id = req.headers['x-request-id'];
    // 499 (as nginx): the client went away before an answer was sent
    publishEnd(m, req.method ?? '', res.headersSent ? res.statusCode : 499, cl === undefined ? 0 : Number(cl) || 0, res.bodyBytes ?? 0, typeof id === 'string' ? id : null);
  });
}

/** Publishes the end event of the request `m` metered (a request served from fetch API objects calls it itself). */
export function publishEnd(m: RequestMeter, method: string, status: number, bytesIn: number, bytesOut: number, requestId: string | null): void {
  channels.requestEnd.publish({
    namespace: m.namespace,
    route: m.route,
    service: m.service,
    upstream: m.upstream,
    method,
    status,
    bytesIn,
    bytesOut,
    moduleMs: m.moduleMs,
    upstreamMs: m.upstreamMs,
    totalMs: performance.now() - m.start,
    requestId,
    error: m.error,
  });
}

/** Publishes a request's start; the meter of its end when someone listens to that, else null. */
export function startMeter(): RequestMeter | null {
  if (channels.requestStart.hasSubscribers) channels.requestStart.publish(START);
  return channels.requestEnd.hasSubscribers ? new RequestMeter() : null;
}

import type { ProxyRequest, ProxyResponse } from '../platform/exchange.js';
import { Errors } from '../core/errors.js';
import { answerId, REQUEST_ID_KEY } from '../observability/request-id.js';
import { channels } from '../observability/channels.js';
import type { UpstreamHandler, UpstreamPool } from '../platform/upstream.js';
import type { RouteRuntime } from '../runtime/route-runtime.js';
import type { ServiceRuntime, Target } from '../runtime/service-runtime.js';
import { upstreamPath, upstreamQuery } from '../runtime/upstream-url.js';
import { responseHeaders } from './answer-headers.js';
import type { AnswerStage } from './answer-stage.js';
import type { ForwardOptions } from './forward.js';
import type { RequestSource } from './request-source.js';
import { meterOf, UPSTREAM_BODY_BROKE, type RequestMeter } from './request-meter.js';
import { CONNECT_ERRORS, IDEMPOTENT, TIMEOUT_ERRORS } from './upstream-failures.js';
import { hasBody } from './upstream-request.js';

/**
 * One request to the service's upstream and its answer back, streamed without buffering
 * bodies. It owns what every route shares: the target of each attempt, the retry on the next
 * URL (idempotent requests without a body, connection failures only), the request timeout
 * (504), the request's meter and the upstream channel, and the client leaving. What differs
 * it is given: `source`, where the request comes from (client-request-source.ts,
 * module-request-source.ts), and `answer`, what is done with the answer (answer-to-client.ts,
 * module-answer.ts).
 *
 * It implements undici's dispatch handler interface (the core callbacks, which undici calls
 * without an adapter in between) so that response headers arrive raw and are copied once; the
 * Bun upstream client (platform/bun/upstream.ts) calls the same callbacks.
 */
export class UpstreamExchange implements UpstreamHandler {
  readonly req: ProxyRequest;
  readonly res: ProxyResponse;
  readonly route: RouteRuntime<UpstreamPool>;
  readonly opts: ForwardOptions;
  /** the client's query string, without '?' */
  readonly query: string;
  /** the request id the answer carries (undefined: request ids are off) */
  readonly answerId: string | undefined;
  /** the upstream's own X-Request-Id is not passed on when the gateway answers with one */
  readonly dropHeader: string | null;
  /** the target of the current attempt */
  target!: Target<UpstreamPool>;
  /** restarts an upstream body paused by the answer stage (set when the head arrives) */
  resume: (() => void) | null = null;
  /** nothing more goes to the client from this exchange: answered, handed on, failed, or the client left */
  done = false;
  readonly #source: RequestSource;
  readonly #answer: AnswerStage;
  readonly #service: ServiceRuntime<UpstreamPool>;
  readonly #path: string;
  readonly #params: Record<string, string> | null;
  /** retries are possible only for idempotent requests without a body (it was streamed) */
  readonly #retryable: boolean;
  #attempt = 0;
  /** the upstream's final head came: the request is not retried after that (module code may have seen it) */
  #headCame = false;
  #abort: ((err?: Error) => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #meter: RequestMeter | null;
  /** when the current attempt was sent, while it is observed (0: not observed, or already reported) */
  #sentAt = 0;

  constructor(req: ProxyRequest, res: ProxyResponse, route: RouteRuntime<UpstreamPool>, path: string, query: string, params: Record<string, string> | null, opts: ForwardOptions, source: RequestSource, answer: AnswerStage) {
    this.req = req;
    this.res = res;
    this.route = route;
    this.opts = opts;
    this.query = query;
    this.#source = source;
    this.#answer = answer;
    this.#service = route.service!;
    this.#path = path;
    this.#params = params;
    this.#retryable = !hasBody(req) && IDEMPOTENT.has(req.method!);
    this.answerId = answerId(res);
    this.dropHeader = this.answerId === undefined ? null : REQUEST_ID_KEY;
    this.#meter = meterOf(req) ?? null;
    res.once('close', () => {
      if (!this.done) {
        this.done = true;
        this.#clearTimer();
        this.#abort?.(new Error('client closed the connection'));
      }
    });
  }

  /** Sends the current attempt. */
  start(): void {
    const source = this.#source;
    const service = this.#service;
    const target = source.target(this);
    this.target = target;
    const rest = this.#params === null ? null : (this.#params['*'] ?? null);
    const path = upstreamPath(target, this.#path, this.route.stripPath, rest) + upstreamQuery(target, source.query(this), service.disableQueryParams);
    if (service.requestTimeoutMs > 0) {
      const ms = service.requestTimeoutMs;
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#abort?.(Errors.UPSTREAM_TIMEOUT(ms));
      }, ms);
    }
    const method = source.method(this);
    const headers = source.headers(this, target);
    this.opts.onUpstreamRequest?.({ origin: target.origin, path, method, headers });
    if (this.#meter !== null || channels.upstream.hasSubscribers) this.#sentAt = performance.now();
    target.pool.dispatch({ path, method, headers, body: source.body(this, this.#attempt) }, this);
  }

  /**
   * The current attempt is over (answer complete or handed on, or failed): its time goes to the
   * request's meter and the upstream channel, once per attempt. `err` is null on success, and
   * for an exchange stopped by the gateway itself (client gone, answer replaced by a module).
   */
  upstreamEnded(err: Error | null): void {
    const sentAt = this.#sentAt;
    if (sentAt === 0) return;
    this.#sentAt = 0;
    const durationMs = performance.now() - sentAt;
    const m = this.#meter;
    if (m !== null) {
      m.upstream = this.target.origin;
      m.upstreamMs += durationMs;
    }
    if (!channels.upstream.hasSubscribers) return;
    const code = err === null ? null : (err as { code?: string }).code || err.name || 'Error';
    channels.upstream.publish({ namespace: this.route.namespace, service: this.#service.name, upstream: this.target.origin, durationMs, error: code, retry: this.#attempt > 0 });
  }

  /** Stops the upstream request (e.g. its answer was replaced by module code). */
  abortUpstream(err: Error): void {
    this.#clearTimer();
    this.#abort?.(err);
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.done) abort(new Error('client closed the connection'));
    else this.#abort = abort;
  }

  /** Offered by the Bun client: the answer as a web stream, taken when the listener sends web streams. */
  onResponse(statusCode: number, headers: Headers, body: ReadableStream<Uint8Array> | null, response?: Response): boolean {
    if (statusCode < 200 || this.res.sendStream === undefined) return false;
    this.#clearTimer();
    this.#headCame = true;
    return this.#answer.stream(this, statusCode, headers, body, response);
  }

  onHeaders(statusCode: number, rawHeaders: ReadonlyArray<Buffer | string>, resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: wait for the final answer
    this.#clearTimer();
    this.#headCame = true;
    this.resume = resume;
    return this.#answer.head(this, statusCode, responseHeaders(rawHeaders, this.dropHeader));
  }

  onData(chunk: Buffer): boolean {
    return this.#answer.data(this, chunk);
  }

  onComplete(trailers?: unknown): void {
    this.upstreamEnded(null);
    this.#answer.complete(this, trailers);
  }

  onError(err: Error): void {
    this.#clearTimer();
    this.#abort = null;
    this.upstreamEnded(this.done ? null : err);
    if (this.done) return;
    const res = this.res;
    // answered already (the listener refused the request body: 413, 408): the upstream's failure follows from that
    if (res.writableEnded) {
      this.done = true;
      return;
    }
    const code = (err as { code?: string }).code ?? '';
    if (!this.#headCame && !res.headersSent && this.#retryable && CONNECT_ERRORS.has(code) && this.#attempt < this.#service.retries) {
      this.#attempt++;
      const wait = this.#service.retryTimeoutMs;
      if (wait > 0) setTimeout(() => this.done || this.start(), wait);
      else this.start();
      return;
    }
    this.done = true;
    // the head went to the client and the body broke: the client's connection is cut, the end event says why
    if (this.#headCame && res.headersSent && this.#meter !== null) this.#meter.error = UPSTREAM_BODY_BROKE;
    this.opts.onUpstreamError(err, this.route, this.target);
    this.#answer.failed(this, err, TIMEOUT_ERRORS.has(code));
  }
}

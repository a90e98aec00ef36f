import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UpstreamPool } from '../platform/upstream.js';
import { connectionTokens, HOP_BY_HOP, HOP_BY_HOP_AND_LENGTH } from './hop-headers.js';
import type { ModuleContext } from '../modules/ctx/context.js';
import type { HeaderMap } from '../modules/ctx/header-map.js';
import { UpstreamResponse } from '../modules/ctx/upstream.js';
import type { HookRunner } from '../modules/hook-runner.js';
import type { RouteRuntime } from '../runtime/route-runtime.js';
import type { Target } from '../runtime/service-runtime.js';
import type { StreamingResponse } from '../platform/listener.js';
import { Forward, headerList, responseHeaders, upstreamHeaders, type ForwardOptions } from './forward.js';
import { REQUEST_ID_HEADER } from '../observability/request-id.js';

/** Body bytes held while asynchronous responseModifiers run, before the upstream is paused. */
const HOLD_LIMIT = 64 * 1024;

const NONE: readonly string[] = [];

/**
 * Puts `a` then `b` (flat [name, value, ...] lists) before the values `h` already has under the
 * same names, as a list [...a, ...b, ...h] turned into Headers would.
 */
function putFirst(h: Headers, a: readonly string[], b: readonly string[]): void {
  if (a.length === 0 && b.length === 0) return;
  const front = a.length === 0 ? b : b.length === 0 ? a : [...a, ...b];
  const seen = new Set<string>();
  for (let i = 0; i < front.length; i += 2) {
    const key = front[i].toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const after = key === 'set-cookie' ? h.getSetCookie() : h.has(key) ? [h.get(key)!] : NONE;
    h.delete(key);
    for (let j = i; j < front.length; j += 2) if (front[j].toLowerCase() === key) h.append(front[j], front[j + 1]);
    for (const v of after) h.append(key, v);
  }
}

/** A body stream's reading: paused while the client is slow, `wake` restarts it. */
interface Flow {
  paused: boolean;
  wake: (() => void) | null;
}

/** Where a module route's failures go (the pipeline's errorHandler logic). */
export type OnModuleFailure = (err: unknown, status: number) => void;

/**
 * The upstream exchange of a route with modules: the request as module code left it (target
 * from fetchUpstream, method, headers, query, body), and the answer through the
 * responseModifiers before it reaches the client. The answer still streams unless a modifier
 * reads or replaces its body.
 */
export class ModuleForward extends Forward {
  readonly #ctx: ModuleContext;
  readonly #runner: HookRunner;
  readonly #fixedTarget: Target<UpstreamPool> | null;
  readonly #onFailure: OnModuleFailure;
  #collecting = false;
  #chunks: Buffer[] = [];
  #complete = false;
  #bodyWaiters: Array<(b: Buffer) => void> = [];
  /** the head is to be written once the body has been collected */
  #flushOnComplete = false;
  /** asynchronous responseModifiers are still running */
  #modifying = false;
  /** the upstream finished while they ran */
  #endedWhileModifying = false;
  /** the upstream's trailers, when it finished while they ran */
  #trailers: unknown = null;
  /** body chunks that arrived while asynchronous modifiers ran (sent after the head) */
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** the upstream was paused because too much was held */
  #pausedForHold = false;
  /**
   * While the head is decided (Bun): the upstream's body stream and Headers, handed to the client
   * (the Headers edited in place) if the modifiers leave the body alone; null = the body goes
   * chunk by chunk.
   */
  #handOff: { body: ReadableStream<Uint8Array> | null; headers: Headers; response: Response | undefined } | null = null;
  #handedOver = false;
  /**
   * Bun: the upstream's body stream, left unread while asynchronous responseModifiers run; when
   * they finish it is handed over as it is, or read (a modifier reads the body, or replaces the
   * head only), or cancelled (the answer was replaced). Reading it meanwhile would cost a JS
   * stream per answer for nothing.
   */
  #waiting: { body: ReadableStream<Uint8Array> | null; headers: Headers; response: Response | undefined; flow: Flow } | null = null;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    route: RouteRuntime<UpstreamPool>,
    path: string,
    query: string,
    params: Record<string, string> | null,
    opts: ForwardOptions,
    ctx: ModuleContext,
    runner: HookRunner,
    target: Target<UpstreamPool> | null,
    onFailure: OnModuleFailure,
  ) {
    super(req, res, route, path, query, params, opts);
    this.#ctx = ctx;
    this.#runner = runner;
    this.#fixedTarget = target;
    this.#onFailure = onFailure;
  }

  protected override pickTarget(attempt: number): Target<UpstreamPool> {
    return this.#fixedTarget ?? super.pickTarget(attempt);
  }
  protected override method(): string {
    return this.#ctx.touchedRequest?.method ?? super.method();
  }
  protected override query(): string {
    return this.#ctx.touchedRequest?.queryString ?? super.query();
  }
  protected override headers(target: Target<UpstreamPool>): string[] {
    const r = this.#ctx.touchedRequest;
    if (r === null || r.touchedHeaders === null) {
      return r !== null && r.body !== null ? upstreamHeaders(this.req, this.req.rawHeaders, this.route, target, this.opts, true) : super.headers(target);
    }
    return upstreamHeaders(this.req, r.headers.flat(), this.route, target, this.opts, r.body !== null);
  }
  protected override body(attempt: number): IncomingMessage | Buffer | null {
    const r = this.#ctx.touchedRequest;
    if (r !== null && r.body !== null) return r.body;
    return super.body(attempt);
  }

  /** headers for the client: global, then those module code set on ctx.response(), then the upstream's, then the request id */
  #clientHeaders(upstream: string[]): string[] {
    const own = this.#ctx.touchedResponse?.headers.flat() ?? [];
    const out = [...this.opts.globalHeaders, ...own, ...upstream];
    if (this.answerId !== undefined) out.push(REQUEST_ID_HEADER, this.answerId);
    return out;
  }

  protected override respond(statusCode: number, headers: string[]): boolean {
    const modifiers = this.route.hooks!.responseModifiers;
    if (modifiers.length === 0) return this.#handOff !== null ? this.#handOver(statusCode, null) : this.#head(statusCode, this.#clientHeaders(headers));
    const ctx = this.#ctx;
    ctx.upstreamResponse = new UpstreamResponse(statusCode, headers, this.#collectBody, this.#query);
    // Synchronous modifiers finish before run() returns: the answer goes on in this call.
    // While asynchronous ones run, the body is held (the upstream is paused only past HOLD_LIMIT).
    let inCall = true;
    let doneInCall = false;
    let errorInCall: { err: unknown } | null = null;
    this.#runner.run(
      this.route,
      modifiers,
      ctx,
      () => ctx.answered,
      () => {
        if (inCall) {
          doneInCall = true;
          return;
        }
        this.#modifying = false;
        if (this.#waiting !== null) return this.#afterWaiting(this.#waiting);
        const held = this.#held;
        this.#held = [];
        if (!this.#afterModifiers() || this.#collecting) return;
        for (const chunk of held) this.res.write(chunk);
        if (this.#endedWhileModifying) {
          super.onComplete(this.#trailers);
        } else if (this.#pausedForHold) {
          this.#pausedForHold = false;
          this.resume!();
        }
      },
      (err) => {
        if (inCall) {
          errorInCall = { err };
          return;
        }
        this.#modifying = false;
        this.#modifierFailed(err);
      },
    );
    inCall = false;
    if (doneInCall) return this.#afterModifiers();
    if (errorInCall !== null) {
      this.#modifierFailed((errorInCall as { err: unknown }).err);
      return false;
    }
    // The upstream keeps flowing (a small body is simply held): pausing and resuming its socket
    // would cost more than the modifiers.
    this.#modifying = true;
    return true;
  }

  /** Bun, asynchronous modifiers done while the body was left unread: hand it over, read it or drop it. */
  #afterWaiting(waiting: { body: ReadableStream<Uint8Array> | null; headers: Headers; response: Response | undefined; flow: Flow }): void {
    if (this.done) {
      // the client went away meanwhile
      this.#dropWaiting();
      return;
    }
    this.#handOff = { body: waiting.body, headers: waiting.headers, response: waiting.response };
    const go = this.#afterModifiers();
    this.#handOff = null;
    if (this.#handedOver) {
      this.#waiting = null;
      this.upstreamEnded(null);
      return;
    }
    if (this.done) return this.#dropWaiting();
    waiting.flow.paused = !go;
    this.#startPump();
  }

  /** reads the waiting body (onData/onComplete), once */
  #startPump(): void {
    const waiting = this.#waiting;
    if (waiting === null) return;
    this.#waiting = null;
    void this.#pump(waiting.body, waiting.flow);
  }

  /** the waiting body is not needed: the upstream exchange is over */
  #dropWaiting(): void {
    const waiting = this.#waiting;
    if (waiting === null) return;
    this.#waiting = null;
    this.upstreamEnded(null);
    void waiting.body?.cancel().catch(() => undefined);
  }

  /** Sends what the modifiers left; true to keep streaming the upstream body. */
  #afterModifiers(): boolean {
    const ctx = this.#ctx;
    const up = ctx.upstreamResponse!;
    if (ctx.answered) {
      // A modifier answered the client itself: the upstream's answer is dropped.
      this.#stopUpstream();
      ctx.response().end();
      return false;
    }
    if (up.body !== null) {
      this.#send(up, up.body);
      this.#stopUpstream();
      return false;
    }
    if (this.#collecting) {
      if (this.#complete) this.#send(up, Buffer.concat(this.#chunks));
      else this.#flushOnComplete = true;
      return true;
    }
    if (this.#handOff !== null) return this.#handOver(up.statusCode, up.headers);
    return this.#head(up.statusCode, this.#clientHeaders(up.headers.flat()));
  }

  /**
   * Bun: the upstream's answer goes on with its body stream untouched and its own Headers edited
   * in place (as the passthrough route does): hop-by-hop names and its request id out, the
   * modifiers' edits, global headers and those set on ctx.response() before the upstream's
   * values of the same name, the request id. The same header values as #clientHeaders gives.
   */
  #handOver(statusCode: number, edits: HeaderMap | null): boolean {
    const handOff = this.#handOff!;
    this.#handOff = null;
    this.#handedOver = true;
    this.done = true;
    const h = handOff.headers;
    const connection = h.get('connection');
    const extraHop = connection === null ? null : connectionTokens(connection);
    for (const name of HOP_BY_HOP) h.delete(name);
    if (extraHop !== null) for (const name of extraHop) h.delete(name);
    if (this.dropHeader !== null) h.delete(this.dropHeader);
    edits?.applyTo(h);
    putFirst(h, this.opts.globalHeaders, this.#ctx.touchedResponse?.headers.flat() ?? NONE);
    if (this.answerId !== undefined) h.append(REQUEST_ID_HEADER, this.answerId);
    (this.res as unknown as StreamingResponse).sendStream(statusCode, h, handOff.body, handOff.response);
    return false;
  }

  /** Writes the answer's head; true to stream the body after it. */
  #head(statusCode: number, headers: string[]): boolean {
    this.res.writeHead(statusCode, headers);
    return true;
  }

  /**
   * The answer as a fetch Response (Bun): the head goes through the responseModifiers as in
   * onHeaders; when they finish at once without touching the body, the body stream is handed to
   * the client untouched, else it is read chunk by chunk as from undici.
   */
  override onResponse(statusCode: number, upstream: Headers, body: ReadableStream<Uint8Array> | null, response?: Response): boolean {
    const res = this.res as unknown as Partial<StreamingResponse>;
    if (res.sendStream === undefined || statusCode < 200) return false;
    const flow: Flow = { paused: false, wake: null };
    this.headArrived(() => {
      flow.paused = false;
      const w = flow.wake;
      flow.wake = null;
      w?.();
    });
    this.#handOff = { body, headers: upstream, response };
    this.#waiting = { body, headers: upstream, response, flow };
    // the list is for ctx.upstream(); without responseModifiers the Headers are edited in place only
    const list = this.route.hooks!.responseModifiers.length === 0 ? [] : responseHeaders(headerList(upstream), this.dropHeader);
    const go = this.respond(statusCode, list);
    this.#handOff = null;
    if (this.#handedOver) {
      this.#waiting = null;
      this.upstreamEnded(null);
      return true;
    }
    if (this.done) {
      this.#dropWaiting();
      return true;
    }
    // asynchronous modifiers run: the body waits for them unread (unless one reads it)
    if (this.#modifying && !this.#collecting) return true;
    flow.paused = !go;
    this.#startPump();
    return true;
  }

  /** Feeds the body stream to onData/onComplete, pausing while onData says so. */
  async #pump(body: ReadableStream<Uint8Array> | null, flow: Flow): Promise<void> {
    try {
      if (body !== null) {
        const reader = body.getReader();
        for (;;) {
          if (flow.paused) await new Promise<void>((r) => (flow.wake = r));
          if (this.done && !this.#collecting) {
            // the answer was replaced or the exchange failed meanwhile: the rest is not needed
            void reader.cancel().catch(() => undefined);
            return;
          }
          const { done, value } = await reader.read();
          if (done) break;
          if (!this.onData(Buffer.from(value.buffer, value.byteOffset, value.byteLength))) flow.paused = true;
        }
      }
      this.onComplete();
    } catch (err) {
      this.onError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #send(up: UpstreamResponse, body: Buffer): void {
    const headers = this.#clientHeaders(up.headers.flatWithout(HOP_BY_HOP_AND_LENGTH));
    headers.push('Content-Length', String(body.length));
    this.res.writeHead(up.statusCode, headers);
    this.res.end(body);
  }

  #stopUpstream(): void {
    if (this.#waiting !== null && this.#handOff === null) {
      this.done = true;
      this.abortUpstream(new Error('answer replaced by a module'));
      return this.#dropWaiting();
    }
    if (this.#complete || this.#endedWhileModifying) return;
    this.done = true;
    this.abortUpstream(new Error('answer replaced by a module'));
  }

  readonly #collectBody = () => this.#collect();
  readonly #query = () => this.#ctx.request().query;

  /** the whole upstream body, for UpstreamResponse.readBody */
  #collect(): Promise<Buffer> {
    if (this.#complete) return Promise.resolve(Buffer.concat(this.#chunks));
    // What arrived while the modifiers ran is the start of the body.
    this.#chunks.push(...this.#held);
    this.#held = [];
    this.#collecting = true;
    // Bun: a body left waiting is read now (not while respond() decides: onResponse starts it then)
    if (this.#modifying) this.#startPump();
    if (this.#endedWhileModifying) {
      this.#complete = true;
      return Promise.resolve(Buffer.concat(this.#chunks));
    }
    if (this.#pausedForHold) {
      this.#pausedForHold = false;
      process.nextTick(() => this.resume?.());
    }
    return new Promise((resolve) => this.#bodyWaiters.push(resolve));
  }

  #modifierFailed(err: unknown): void {
    this.#stopUpstream();
    this.done = true;
    this.#onFailure(err, 500);
  }

  override onData(chunk: Buffer): boolean {
    if (this.#collecting) {
      this.#chunks.push(chunk);
      return true;
    }
    if (this.#modifying) {
      this.#held.push(chunk);
      this.#heldBytes += chunk.length;
      if (this.#heldBytes <= HOLD_LIMIT) return true;
      this.#pausedForHold = true;
      return false;
    }
    return super.onData(chunk);
  }

  override onComplete(trailers?: unknown): void {
    this.upstreamEnded(null);
    if (this.#modifying && !this.#collecting) {
      this.#endedWhileModifying = true;
      this.#trailers = trailers;
      return;
    }
    if (!this.#collecting) return super.onComplete(trailers);
    this.#complete = true;
    const body = Buffer.concat(this.#chunks);
    for (const w of this.#bodyWaiters) w(body);
    this.#bodyWaiters = [];
    if (this.#flushOnComplete && !this.res.headersSent) {
      this.done = true;
      this.#send(this.#ctx.upstreamResponse!, body);
    }
  }

  protected override fail(err: Error, timedOut: boolean): void {
    // An invalid header or method set by module code is the module's fault, not the upstream's.
    const moduleFault = (err as { code?: string }).code === 'UND_ERR_INVALID_ARG';
    this.#onFailure(err, moduleFault ? 500 : timedOut ? 504 : 502);
  }
}

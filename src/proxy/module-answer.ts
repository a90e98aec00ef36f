import type { ModuleContext } from '../modules/ctx/context.js';
import type { HeaderMap } from '../modules/ctx/header-map.js';
import { UpstreamResponse } from '../modules/ctx/upstream.js';
import type { HookRunner } from '../modules/hook-runner.js';
import { REQUEST_ID_HEADER } from '../observability/request-id.js';
import { editForClient, headerList, responseHeaders } from './answer-headers.js';
import type { AnswerStage } from './answer-stage.js';
import { ANSWER_TO_CLIENT, headNotHeld } from './answer-to-client.js';
import { newFlow, pumpBody, type Flow } from './body-pump.js';
import { HOP_BY_HOP_AND_LENGTH } from './hop-headers.js';
import type { UpstreamExchange } from './upstream-exchange.js';

/** Body bytes held while asynchronous responseModifiers run, before the upstream is paused. */
const HOLD_LIMIT = 64 * 1024;

/** Where a module route's failures go (the pipeline's errorHandler logic). */
export type OnModuleFailure = (err: unknown, status: number) => void;

/**
 * Where a module route's answer is. The transitions (all in this file):
 *
 *   awaiting-head → streaming     no responseModifiers, or they finished at once leaving the body alone
 *   awaiting-head → handed-over   the same on Bun: the body stream goes to the client untouched
 *   awaiting-head → modifying     asynchronous responseModifiers run
 *   awaiting-head | modifying → reading        a modifier reads the body (ctx.upstream().readBody())
 *   modifying → streaming | handed-over        they finished leaving the body alone
 *   reading → collecting          they finished: the answer goes with the body once it is whole
 *   reading | collecting → sent   … or at once, when the body was whole already
 *   streaming → sent              the body ended
 *   awaiting-head | modifying | reading → replaced   a modifier answered itself or set a body
 *   awaiting-head | modifying | reading → failed     a modifier failed: errorHandler answers
 *   modifying | reading | collecting | streaming → failed   the upstream failed: errorHandler answers
 *                                 (or the client's connection is closed once the head went out)
 *
 * 'failed' is final: modifiers that finish or fail after it are ignored. A body read
 * (ctx.upstream().readBody()) once the body went to the client, was dropped or failed rejects.
 */
export type AnswerState = 'awaiting-head' | 'modifying' | 'reading' | 'collecting' | 'streaming' | 'handed-over' | 'sent' | 'replaced' | 'failed';

/**
 * Bun: the upstream's answer while its head is decided, body stream unread. It is handed to the
 * client as it is (its Headers edited in place) when the modifiers leave the body alone, read
 * (a modifier reads the body) or cancelled (the answer was replaced). Reading it meanwhile would
 * cost a JS stream per answer for nothing.
 */
interface UnreadAnswer {
  readonly body: ReadableStream<Uint8Array> | null;
  readonly headers: Headers;
  readonly response: Response | undefined;
  readonly flow: Flow;
}

/**
 * A module route's answer: the upstream's head goes through the responseModifiers before it
 * reaches the client. The answer still streams unless a modifier reads or replaces its body;
 * while asynchronous modifiers run, what arrives of the body is held (the upstream is paused
 * past HOLD_LIMIT). A modifier failure, or an upstream one, goes to `onFailure`.
 */
export class ModuleAnswer implements AnswerStage {
  readonly #ctx: ModuleContext;
  readonly #runner: HookRunner;
  readonly #onFailure: OnModuleFailure;
  #state: AnswerState = 'awaiting-head';
  /** the upstream's body has all arrived (into #held or #chunks) */
  #ended = false;
  /** the upstream's trailers, when it ended while the modifiers ran */
  #trailers: unknown = null;
  /** body chunks that arrived while asynchronous modifiers ran (sent after the head) */
  #held: Buffer[] = [];
  /** their size; past HOLD_LIMIT the upstream is paused until the modifiers finish */
  #heldBytes = 0;
  /** the body as read for module code; null until a modifier reads it */
  #chunks: Buffer[] | null = null;
  /** readBody() calls waiting for the whole body */
  #waiters: Array<{ resolve: (b: Buffer) => void; reject: (err: Error) => void }> = [];
  /** why the exchange failed (state 'failed') */
  #failure: unknown = null;
  /** Bun: the answer left unread while asynchronous modifiers run */
  #unread: UnreadAnswer | null = null;
  readonly #query = () => this.#ctx.request().query;

  constructor(ctx: ModuleContext, runner: HookRunner, onFailure: OnModuleFailure) {
    this.#ctx = ctx;
    this.#runner = runner;
    this.#onFailure = onFailure;
  }

  head(ex: UpstreamExchange, statusCode: number, headers: string[]): boolean {
    return this.#decideHead(ex, statusCode, headers, null);
  }

  /**
   * The answer as a fetch Response (Bun): the head goes through the responseModifiers as in
   * head(); when they finish at once without touching the body, the body stream is handed to
   * the client untouched, else it is read chunk by chunk as from undici.
   */
  stream(ex: UpstreamExchange, statusCode: number, headers: Headers, body: ReadableStream<Uint8Array> | null, response: Response | undefined): boolean {
    const { flow, resume } = newFlow();
    ex.resume = resume;
    const unread: UnreadAnswer = { body, headers, response, flow };
    this.#unread = unread;
    // the list is for ctx.upstream(); without responseModifiers the Headers are edited in place only
    const list = ex.route.hooks!.responseModifiers.length === 0 ? [] : responseHeaders(headerList(headers), ex.dropHeader);
    const go = this.#decideHead(ex, statusCode, list, unread);
    if (this.#state === 'handed-over') return true;
    if (ex.done) {
      this.#dropUnread(ex);
      return true;
    }
    // asynchronous modifiers run: the body waits for them unread (unless one reads it)
    if (this.#state === 'modifying') return true;
    flow.paused = !go;
    this.#startPump(ex);
    return true;
  }

  data(ex: UpstreamExchange, chunk: Buffer): boolean {
    switch (this.#state) {
      case 'streaming':
        return ANSWER_TO_CLIENT.data(ex, chunk);
      case 'modifying':
        this.#held.push(chunk);
        this.#heldBytes += chunk.length;
        return this.#heldBytes <= HOLD_LIMIT;
      default:
        // read for module code (also after the answer was settled: a readBody() may still wait)
        this.#chunks?.push(chunk);
        return true;
    }
  }

  complete(ex: UpstreamExchange, trailers: unknown): void {
    this.#ended = true;
    if (this.#state === 'streaming') {
      this.#state = 'sent';
      return ANSWER_TO_CLIENT.complete(ex, trailers);
    }
    if (this.#state === 'modifying') {
      this.#trailers = trailers;
      return;
    }
    if (this.#chunks === null || this.#state === 'failed') return;
    const body = Buffer.concat(this.#chunks);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve(body);
    if (this.#state === 'collecting' && !ex.res.headersSent) {
      ex.done = true;
      this.#send(ex, this.#ctx.upstreamResponse!, body);
    }
  }

  failed(ex: UpstreamExchange, err: Error, timedOut: boolean): void {
    void ex;
    if (this.#state === 'failed') return;
    this.#fail(err);
    // An invalid header or method set by module code is the module's fault, not the upstream's.
    const moduleFault = (err as { code?: string }).code === 'UND_ERR_INVALID_ARG';
    this.#onFailure(err, moduleFault ? 500 : timedOut ? 504 : 502);
  }

  /** The answer failed for good: what was held is dropped and readBody() calls still waiting reject. */
  #fail(err: unknown): void {
    this.#state = 'failed';
    this.#failure = err;
    this.#held = [];
    if (this.#waiters.length > 0) this.#rejectWaiters(readFailure(err));
  }

  /** readBody() calls still waiting fail: the body will not be whole */
  #rejectWaiters(err: Error): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(err);
  }

  /**
   * Runs the responseModifiers on the upstream's head (`unread`: Bun's answer, body unread).
   * Synchronous ones finish before run() returns: the answer goes on in this call. While
   * asynchronous ones run, the body is held. Returns true to keep the upstream body flowing.
   */
  #decideHead(ex: UpstreamExchange, statusCode: number, headers: string[], unread: UnreadAnswer | null): boolean {
    const modifiers = ex.route.hooks!.responseModifiers;
    if (modifiers.length === 0) {
      return unread !== null ? this.#handOver(ex, unread, statusCode, null) : this.#streamHead(ex, statusCode, this.#clientHeaders(ex, headers));
    }
    const ctx = this.#ctx;
    ctx.upstreamResponse = new UpstreamResponse(statusCode, headers, () => this.#collect(ex), this.#query);
    let inCall = true;
    let doneInCall = false;
    let errorInCall: { err: unknown } | null = null;
    this.#runner.run(
      ex.route,
      modifiers,
      ctx,
      () => ctx.answered,
      () => {
        if (inCall) doneInCall = true;
        else this.#modifiersDone(ex);
      },
      (err) => {
        if (inCall) errorInCall = { err };
        else this.#modifierFailed(ex, err);
      },
    );
    inCall = false;
    if (doneInCall) return this.#afterModifiers(ex, unread);
    if (errorInCall !== null) {
      this.#modifierFailed(ex, (errorInCall as { err: unknown }).err);
      return false;
    }
    // The upstream keeps flowing (a small body is simply held): pausing and resuming its socket
    // would cost more than the modifiers.
    if (this.#state === 'awaiting-head') this.#state = 'modifying';
    return true;
  }

  /** Asynchronous modifiers finished: the answer goes on as they left it (unless the exchange failed meanwhile). */
  #modifiersDone(ex: UpstreamExchange): void {
    if (this.#state === 'failed') return;
    const unread = this.#unread;
    if (unread !== null) return this.#afterWaiting(ex, unread);
    const held = this.#held;
    this.#held = [];
    this.#afterModifiers(ex, null);
    if (this.#state !== 'streaming') return;
    for (const chunk of held) ex.res.write(chunk);
    if (this.#ended) {
      this.#state = 'sent';
      ANSWER_TO_CLIENT.complete(ex, this.#trailers);
    } else if (this.#heldBytes > HOLD_LIMIT) {
      this.#heldBytes = 0;
      ex.resume!();
    }
  }

  /** Bun, asynchronous modifiers done while the body was left unread: hand it over, read it or drop it. */
  #afterWaiting(ex: UpstreamExchange, unread: UnreadAnswer): void {
    // the client went away meanwhile
    if (ex.done) return this.#dropUnread(ex);
    const go = this.#afterModifiers(ex, unread);
    if (this.#state === 'handed-over') return;
    if (ex.done) return this.#dropUnread(ex);
    unread.flow.paused = !go;
    this.#startPump(ex);
  }

  /** Sends what the modifiers left (`unread`: Bun's answer, still to be handed over); true to keep streaming the upstream body. */
  #afterModifiers(ex: UpstreamExchange, unread: UnreadAnswer | null): boolean {
    const ctx = this.#ctx;
    const up = ctx.upstreamResponse!;
    if (ctx.answered) {
      // A modifier answered the client itself: the upstream's answer is dropped.
      this.#state = 'replaced';
      this.#stopUpstream(ex);
      ctx.response().end();
      return false;
    }
    if (up.body !== null) {
      this.#send(ex, up, up.body);
      this.#state = 'replaced';
      this.#stopUpstream(ex);
      return false;
    }
    if (this.#state === 'reading') {
      if (this.#ended) this.#send(ex, up, Buffer.concat(this.#chunks!));
      else this.#state = 'collecting';
      return true;
    }
    if (unread !== null) return this.#handOver(ex, unread, up.statusCode, up.headers);
    return this.#streamHead(ex, up.statusCode, this.#clientHeaders(ex, up.headers.flat()));
  }

  /** headers for the client: global, then those module code set on ctx.response(), then the upstream's, then the request id */
  #clientHeaders(ex: UpstreamExchange, upstream: string[]): string[] {
    const own = this.#ctx.touchedResponse?.headers.flat() ?? [];
    const out = [...ex.opts.globalHeaders, ...own, ...upstream];
    if (ex.answerId !== undefined) out.push(REQUEST_ID_HEADER, ex.answerId);
    return out;
  }

  /** Writes the answer's head; the body streams after it. */
  #streamHead(ex: UpstreamExchange, statusCode: number, headers: string[]): boolean {
    this.#state = 'streaming';
    ex.res.writeHead(statusCode, headers);
    headNotHeld(ex.res, headers);
    return true;
  }

  /** Bun: the upstream's answer goes on with its body stream untouched and its own Headers edited in place (as #clientHeaders would give). */
  #handOver(ex: UpstreamExchange, unread: UnreadAnswer, statusCode: number, edits: HeaderMap | null): boolean {
    this.#state = 'handed-over';
    this.#unread = null;
    ex.done = true;
    const h = unread.headers;
    editForClient(h, ex.dropHeader, edits, ex.opts.globalHeaders, this.#ctx.touchedResponse?.headers.flat(), ex.answerId);
    ex.res.sendStream!(statusCode, h, unread.body, unread.response);
    ex.upstreamEnded(null);
    return false;
  }

  /** The answer with a body of its own (read whole, or set by a modifier). */
  #send(ex: UpstreamExchange, up: UpstreamResponse, body: Buffer): void {
    this.#state = 'sent';
    const headers = this.#clientHeaders(ex, up.headers.flatWithout(HOP_BY_HOP_AND_LENGTH));
    headers.push('Content-Length', String(body.length));
    ex.res.writeHead(up.statusCode, headers);
    ex.res.end(body);
  }

  /** The upstream's answer is not needed (any more): the exchange stops, unless it is over already. */
  #stopUpstream(ex: UpstreamExchange): void {
    if (this.#ended) return;
    if (this.#waiters.length > 0 && this.#state === 'replaced') this.#rejectWaiters(new Error(DROPPED));
    ex.done = true;
    ex.abortUpstream(new Error('answer replaced by a module'));
    this.#dropUnread(ex);
  }

  /** Bun: reads the body left unread (onData/onComplete), once */
  #startPump(ex: UpstreamExchange): void {
    const unread = this.#unread;
    if (unread === null) return;
    this.#unread = null;
    // the answer was replaced or the exchange failed meanwhile: the rest is not needed, unless read for module code
    void pumpBody(unread.body, unread.flow, ex, () => ex.done && (this.#chunks === null || this.#state === 'failed'));
  }

  /** Bun: the body left unread is not needed: the upstream exchange is over */
  #dropUnread(ex: UpstreamExchange): void {
    const unread = this.#unread;
    if (unread === null) return;
    this.#unread = null;
    ex.upstreamEnded(null);
    void unread.body?.cancel().catch(() => undefined);
  }

  /** the whole upstream body, for UpstreamResponse.readBody */
  #collect(ex: UpstreamExchange): Promise<Buffer> {
    const state = this.#state;
    if (state === 'failed') return Promise.reject(readFailure(this.#failure));
    if (this.#chunks === null) {
      // the body went (or goes) to the client as it came, or was dropped: it is not kept
      if (state === 'streaming' || state === 'handed-over' || state === 'sent') return Promise.reject(new Error(ALREADY_SENT));
      if (state === 'replaced') return Promise.reject(new Error(DROPPED));
      // What arrived while the modifiers ran is the start of the body.
      this.#chunks = this.#held;
      this.#held = [];
      const wasModifying = this.#state === 'modifying';
      if (wasModifying || this.#state === 'awaiting-head') this.#state = 'reading';
      // Bun: a body left unread is read now (not while the head is decided: stream() starts it then)
      if (wasModifying) this.#startPump(ex);
      if (!this.#ended && this.#heldBytes > HOLD_LIMIT) {
        this.#heldBytes = 0;
        process.nextTick(() => ex.resume?.());
      }
    }
    if (this.#ended) return Promise.resolve(Buffer.concat(this.#chunks));
    // replaced by the modifiers without the body being whole: it will not be
    if (state === 'replaced') return Promise.reject(new Error(DROPPED));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #modifierFailed(ex: UpstreamExchange, err: unknown): void {
    // the exchange failed already (upstream failure, or a modifier over its time budget): its error path ran
    if (this.#state === 'failed') return;
    this.#stopUpstream(ex);
    ex.done = true;
    this.#fail(err);
    this.#onFailure(err, 500);
  }
}

export const ALREADY_SENT = "ctx.upstream(): the upstream's body was already sent to the client; read it in a responseModifier before the answer goes on";
export const DROPPED = "ctx.upstream(): the upstream's body was dropped (the answer was replaced by module code)";

/** what a readBody() on a failed exchange rejects with */
export function readFailure(err: unknown): Error {
  const why = err instanceof Error ? err.message : String(err);
  return new Error(`ctx.upstream(): the upstream's body cannot be read, the exchange failed: ${why}`);
}

import type { UpstreamExchange } from './upstream-exchange.js';

/**
 * What an upstream exchange does with the upstream's answer: sends it to the client as it comes
 * (answer-to-client.ts), or through a module route's responseModifiers first (module-answer.ts).
 * The exchange calls these from its upstream-handler callbacks, after its own bookkeeping
 * (request timeout cleared on the head; the attempt's time reported before `complete`).
 */
export interface AnswerStage {
  /** the upstream's final status and headers (strings, hop-by-hop dropped); false pauses the body until `ex.resume` */
  head(ex: UpstreamExchange, statusCode: number, headers: string[]): boolean;
  /**
   * Bun, to a listener that takes web streams: the whole answer at once (status, the upstream's
   * own Headers, the body stream unread); true takes it. False: the body comes through head,
   * data and complete instead.
   */
  stream(ex: UpstreamExchange, statusCode: number, headers: Headers, body: ReadableStream<Uint8Array> | null, response: Response | undefined): boolean;
  /** a body chunk; false pauses the body until `ex.resume` */
  data(ex: UpstreamExchange, chunk: Buffer): boolean;
  /** the body is complete (`trailers`: a flat [name, value, ...] list, or nothing) */
  complete(ex: UpstreamExchange, trailers: unknown): void;
  /** the exchange failed for good (no retry left); `timedOut`: the upstream was too slow */
  failed(ex: UpstreamExchange, err: Error, timedOut: boolean): void;
}

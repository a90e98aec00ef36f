/**
 * The access log: one JSON line per proxied request, from the `requestEnd` channel, written by
 * the process that served the request (a proxy worker, or the main process with workers: 0).
 *
 * Line shape (snake_case like the server log; times in ms, rounded to µs):
 *   {"time":"2024-01-01T00:00:00.000Z","node_id":"gw1","source":"access","request_id":"…",
 *    "method":"GET","namespace":"app","route":"api","service":"api","upstream":"http://10.0.0.5:3000",
 *    "status":200,"bytes_in":0,"bytes_out":512,"module_ms":0,"upstream_ms":1.234,"total_ms":1.456}
 * plus "error":"upstream_body" (last) when the answer was cut because the upstream's body broke.
 *
 * Whether a request is logged is drawn per request (sample_rate). Lines are gathered for up to
 * FLUSH_MS (or FLUSH_AT bytes) and written together, synchronously (whole lines, so they never
 * mix with server log lines on stdout): one write per batch instead of one per request. What is
 * pending is written when the process exits.
 */
import pino from 'pino';
import { channels, type RequestEndEvent } from './channels.js';

export interface AccessLogOptions {
  /** 0..1: share of requests logged */
  readonly sampleRate: number;
  /** absolute path lines are appended to; null = stdout */
  readonly file: string | null;
  readonly nodeId: string;
}

/** Where lines go: tests pass a collector; otherwise stdout or the file. */
export type LineSink = (text: string) => void;

/** pending text past which lines are written at once */
const FLUSH_AT = 32 * 1024;
/** longest time a line waits to be written, ms */
export const FLUSH_MS = 100;

export class AccessLog {
  readonly #rate: number;
  readonly #nodeJson: string;
  readonly #sink: LineSink;
  readonly #random: () => number;
  #pending = '';
  #timer: NodeJS.Timeout | null = null;
  /** the time text up to the seconds ("2024-01-01T00:00:00."), for the second starting at #second */
  #second = 0;
  #secondText = '';
  readonly #listener = (event: RequestEndEvent) => this.record(event);
  readonly #flush = () => this.flush();

  constructor(opts: AccessLogOptions, sink?: LineSink, random: () => number = Math.random) {
    this.#rate = opts.sampleRate;
    this.#nodeJson = JSON.stringify(opts.nodeId);
    this.#random = random;
    if (sink === undefined) {
      const dest = pino.destination({ dest: opts.file ?? 1, sync: true, append: true, mkdir: true });
      sink = (text) => void dest.write(text);
    }
    this.#sink = sink;
  }

  /** starts logging the requests this process serves */
  start(): this {
    channels.requestEnd.subscribe(this.#listener);
    process.on('exit', this.#flush);
    return this;
  }

  stop(): void {
    channels.requestEnd.unsubscribe(this.#listener);
    process.off('exit', this.#flush);
    this.flush();
  }

  record(e: RequestEndEvent): void {
    const rate = this.#rate;
    if (rate < 1 && !(this.#random() < rate)) return;
    this.#pending += `{"time":"${this.#time()}","node_id":${this.#nodeJson},"source":"access","request_id":${str(e.requestId)},"method":${str(e.method)},"namespace":${str(e.namespace)},"route":${str(e.route)},"service":${str(e.service)},"upstream":${str(e.upstream)},"status":${e.status},"bytes_in":${e.bytesIn},"bytes_out":${e.bytesOut},"module_ms":${ms(e.moduleMs)},"upstream_ms":${ms(e.upstreamMs)},"total_ms":${ms(e.totalMs)}${e.error == null ? '' : `,"error":${str(e.error)}`}}\n`;
    if (this.#pending.length >= FLUSH_AT) this.flush();
    else if (this.#timer === null) this.#timer = setTimeout(this.#flush, FLUSH_MS).unref();
  }

  /** ISO time of now; the date and time up to the second are formatted once a second */
  #time(): string {
    const now = Date.now();
    const ms = now - this.#second;
    if (ms >= 1000 || ms < 0) {
      this.#second = now - (now % 1000);
      this.#secondText = new Date(this.#second).toISOString().slice(0, 20);
      return `${this.#secondText}${String(now % 1000).padStart(3, '0')}Z`;
    }
    return `${this.#secondText}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
  }

  /** writes the pending lines now */
  flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#pending === '') return;
    const text = this.#pending;
    this.#pending = '';
    this.#sink(text);
  }
}

/** characters a JSON string must escape */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** a JSON string; most values (names from the config, generated ids) need no escaping */
function str(v: string | null): string {
  if (v === null) return 'null';
  return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
}

function ms(v: number): number {
  return Math.round(v * 1000) / 1000;
}

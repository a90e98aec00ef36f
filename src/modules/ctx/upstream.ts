import { STATUS_CODES } from 'node:http';
import { toArrayBuffer, toBuffer } from './body.js';
import { parseCookies } from './cookies.js';
import { HeaderMap } from './header-map.js';
import type { QueryMap } from './query-map.js';
import { checkedStatus } from './status.js';

/**
 * ctx.upstream(): the upstream's answer inside responseModifier, before it goes to the client.
 * Headers and status may be changed; the body may be read (then it is still sent unless
 * replaced) or replaced.
 */
export class UpstreamResponse {
  readonly headers: HeaderMap;
  statusCode: number;
  statusText: string;
  /** replacement body written by module code */
  body: Buffer | null = null;
  readonly #readBody: () => Promise<Buffer>;
  readonly #query: () => QueryMap;

  /** `rawHeaders`: the upstream's [name, value, ...] list, or how to make it when a header is first read */
  constructor(statusCode: number, rawHeaders: string[] | (() => string[]), readBody: () => Promise<Buffer>, query: () => QueryMap) {
    this.statusCode = statusCode;
    this.statusText = STATUS_CODES[statusCode] ?? '';
    this.headers = new HeaderMap(rawHeaders);
    this.#readBody = readBody;
    this.#query = query;
  }

  get contentLength(): number {
    const cl = this.headers.get('content-length');
    return cl === null ? -1 : Number(cl);
  }

  async readBody(): Promise<ArrayBuffer> {
    return toArrayBuffer(this.body ?? (await this.#readBody()));
  }
  async readText(): Promise<string> {
    return (this.body ?? (await this.#readBody())).toString('utf8');
  }
  async readJson(): Promise<unknown> {
    return JSON.parse((this.body ?? (await this.#readBody())).toString('utf8'));
  }
  writeBody(data: unknown): this {
    this.body = toBuffer(data, 'writeBody');
    return this;
  }
  writeJson(value: unknown): this {
    this.body = Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
    this.headers.set('Content-Type', 'application/json');
    return this;
  }
  status(code: number): this {
    const n = checkedStatus(code);
    this.statusCode = n;
    this.statusText = STATUS_CODES[n] ?? '';
    return this;
  }
  redirect(url: string): this {
    return this.#redirect(url, 307);
  }
  redirectPermanent(url: string): this {
    return this.#redirect(url, 301);
  }
  #redirect(url: string, status: number): this {
    this.status(status);
    this.headers.set('Location', String(url));
    this.body = Buffer.alloc(0);
    return this;
  }
  /** the query sent upstream */
  query(): QueryMap {
    return this.#query();
  }
  /** cookies the upstream set (name → value) */
  cookie(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of this.headers.values('set-cookie')) Object.assign(out, parseCookies(line.split(';')[0]));
    return out;
  }
}

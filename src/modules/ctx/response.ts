import type { ProxyRequest, ProxyResponse } from '../../platform/exchange.js';
import { withAnswerId } from '../../observability/request-id.js';
import { toBuffer } from './body.js';
import { parseCookies, serializeCookie, type CookieOptions } from './cookies.js';
import { HeaderMap } from './header-map.js';
import { checkedStatus } from './status.js';

/**
 * ctx.response(): what the gateway answers the client, written by module code. Writing (json,
 * send, end, redirect) answers the request: in a requestModifier that skips the upstream call
 * (short-circuit); in a responseModifier it replaces the upstream's answer. Headers set here
 * are also added to a proxied answer.
 */
export class ModuleResponse {
  readonly #req: ProxyRequest;
  readonly #res: ProxyResponse;
  readonly headers = new HeaderMap();
  readonly locals: Record<string, unknown> = {};
  #status = 200;
  /** true once module code wrote (part of) an answer */
  started = false;

  constructor(req: ProxyRequest, res: ProxyResponse) {
    this.#req = req;
    this.#res = res;
  }

  get headersSent(): boolean {
    return this.#res.headersSent;
  }
  get statusCode(): number {
    return this.#status;
  }

  status(code: number): this {
    this.#status = checkedStatus(code);
    return this;
  }

  #write(body: Buffer, end: boolean): this {
    const res = this.#res;
    if (res.writableEnded) throw new Error('response: already ended');
    if (!res.headersSent) {
      if (!this.headers.has('content-type')) this.headers.set('Content-Type', 'text/plain; charset=utf-8');
      if (end) this.headers.set('Content-Length', body.length);
      res.writeHead(this.#status, withAnswerId(res, this.headers.flat()));
    }
    this.started = true;
    if (end) res.end(body);
    else res.write(body);
    return this;
  }

  /** sends a JSON body (Content-Type application/json); further json() calls append */
  json(value: unknown): this {
    if (!this.#res.headersSent && !this.headers.has('content-type')) this.headers.set('Content-Type', 'application/json');
    return this.#write(Buffer.from(JSON.stringify(value) ?? 'null', 'utf8'), false);
  }
  /** sends a body (string, ArrayBuffer or typed array); further calls append */
  send(data: unknown): this {
    return this.#write(toBuffer(data, 'send'), false);
  }
  write(data: unknown): this {
    return this.send(data);
  }
  /** sends an optional last chunk and ends the answer */
  end(data?: unknown): this {
    if (this.#res.writableEnded) return this;
    if (!this.#res.headersSent) return this.#write(toBuffer(data, 'end'), true);
    this.started = true;
    this.#res.end(data === undefined ? undefined : toBuffer(data, 'end'));
    return this;
  }
  location(url: string): this {
    this.headers.set('Location', String(url));
    return this;
  }
  /** 307 to url (relative URLs resolve against the request path) */
  redirect(url: string): this {
    return this.#redirect(url, 307);
  }
  redirectPermanent(url: string): this {
    return this.#redirect(url, 301);
  }
  #redirect(url: string, status: number): this {
    const target = new URL(String(url), `http://${this.#req.headers.host ?? 'localhost'}${this.#req.url}`);
    const absolute = /^[a-z][a-z0-9+.-]*:/i.test(String(url)) || String(url).startsWith('//');
    this.location(absolute ? target.href : target.pathname + target.search + target.hash);
    this.#status = status;
    return this.end('');
  }
  cookie(name: string, value: string, opts?: CookieOptions): this {
    this.headers.add('Set-Cookie', serializeCookie(String(name), String(value), opts));
    return this;
  }
  /** the request's cookies */
  getCookies(): Record<string, string> {
    return parseCookies(this.#req.headers.cookie);
  }
  getCookie(name: string): string | null {
    return this.getCookies()[name] ?? null;
  }
}

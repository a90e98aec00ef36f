import type { ProxyRequest, ProxyResponse } from '../../platform/exchange.js';
import { readRequestBody, READ_LIMIT, toArrayBuffer, toBuffer } from './body.js';
import { HeaderMap } from './header-map.js';
import { QueryMap } from './query-map.js';

/**
 * ctx.request(): the client's request as modules see it. Headers, query, method and body
 * changes made by requestModifier (or fetchUpstream) are what the upstream receives.
 */
export class ModuleRequest {
  readonly #req: ProxyRequest;
  /** the answer to the request: its close before the body was read means the client went away */
  readonly #res: ProxyResponse;
  readonly #rawQuery: string;
  #headers: HeaderMap | null = null;
  #query: QueryMap | null = null;
  /** body read or replaced by module code; null = stream the client's body */
  body: Buffer | null = null;
  bodyReplaced = false;
  method: string;
  readonly path: string;

  constructor(req: ProxyRequest, res: ProxyResponse, path: string, query: string) {
    this.#req = req;
    this.#res = res;
    this.method = req.method!;
    this.path = path;
    this.#rawQuery = query;
  }

  get headers(): HeaderMap {
    // the client's list is read when module code reads a header (a set alone does not need it)
    if (this.#headers === null) this.#headers = new HeaderMap(() => this.#req.rawHeaders);
    return this.#headers;
  }
  /** the headers object if module code looked at it (else null: the raw headers apply) */
  get touchedHeaders(): HeaderMap | null {
    return this.#headers;
  }
  get query(): QueryMap {
    if (this.#query === null) this.#query = new QueryMap(this.#rawQuery);
    return this.#query;
  }
  /** the query string to send upstream */
  get queryString(): string {
    return this.#query !== null && this.#query.changed ? this.#query.encode() : this.#rawQuery;
  }
  get host(): string {
    return this.#req.headers.host ?? '';
  }
  get remoteAddress(): string {
    return this.#req.socket.remoteAddress ?? '';
  }
  get proto(): string {
    return `HTTP/${this.#req.httpVersion}`;
  }
  get url(): string {
    return this.#req.url!;
  }
  get contentLength(): number {
    const cl = this.#req.headers['content-length'];
    return cl === undefined ? -1 : Number(cl);
  }

  async #bytes(): Promise<Buffer> {
    if (this.body === null) this.body = await readRequestBody(this.#req, this.#res, READ_LIMIT);
    return this.body;
  }
  /** the whole request body (read once; it is still sent upstream unless replaced); rejects with DG_ERR_CLIENT_CLOSED as soon as the client goes away */
  async readBody(): Promise<ArrayBuffer> {
    return toArrayBuffer(await this.#bytes());
  }
  async readText(): Promise<string> {
    return (await this.#bytes()).toString('utf8');
  }
  async readJson(): Promise<unknown> {
    return JSON.parse((await this.#bytes()).toString('utf8'));
  }
  /** replaces the body sent upstream */
  writeBody(data: unknown): void {
    this.body = toBuffer(data, 'writeBody');
    this.bodyReplaced = true;
  }
  writeJson(value: unknown): void {
    this.body = Buffer.from(JSON.stringify(value), 'utf8');
    this.bodyReplaced = true;
    this.headers.set('Content-Type', 'application/json');
  }
}

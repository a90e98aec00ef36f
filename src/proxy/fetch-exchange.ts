import type { ClientSocket, ProxyRequest, ProxyResponse, RequestHeaders } from '../platform/exchange.js';
import type { FetchClient } from '../platform/listener.js';
import { REQUEST_ID_KEY } from '../observability/request-id.js';

/**
 * A fetch Request without a body as the ProxyRequest module `ctx` reads (fetch-module-route.ts):
 * its headers as identified, turned into the object and the flat list only when read. They are
 * read from the request's own Headers (never edited: the upstream's are a copy, edited in place)
 * with what identification changed: X-Request-Id (the answer's id, when request ids are on) and,
 * when the trace context was replaced or dropped, traceparent and tracestate.
 */
export class FetchRequestView implements ProxyRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion = '1.1';
  readonly #request: Request;
  readonly #client: FetchClient;
  /** X-Request-Id as identified; undefined: as the client sent it */
  readonly #requestId: string | undefined;
  /** traceparent as identified (null: dropped, with tracestate); undefined: both as the client sent them */
  readonly #traceparent: string | null | undefined;
  #socket: ClientSocket | null = null;
  #object: RequestHeaders | null = null;
  #raw: string[] | null = null;

  constructor(request: Request, target: string, client: FetchClient, requestId: string | undefined, traceparent: string | null | undefined) {
    this.#request = request;
    this.method = request.method;
    this.url = target;
    this.#client = client;
    this.#requestId = requestId;
    this.#traceparent = traceparent;
  }

  /** each header as identified (lowercase names, in the sorted order of Headers iteration) */
  #each(fn: (value: string, name: string) => void): void {
    // what identification changed, sorted by name as Headers iterates
    const changed: Array<[string, string | null]> = [];
    if (this.#traceparent !== undefined) changed.push(['traceparent', this.#traceparent], ['tracestate', null]);
    if (this.#requestId !== undefined) changed.push([REQUEST_ID_KEY, this.#requestId]);
    let k = 0;
    this.#request.headers.forEach((value, name) => {
      while (k < changed.length && changed[k][0] < name) {
        const [n, v] = changed[k++];
        if (v !== null) fn(v, n);
      }
      if (k < changed.length && changed[k][0] === name) {
        const v = changed[k++][1];
        if (v !== null) fn(v, name);
        return;
      }
      fn(value, name);
    });
    for (; k < changed.length; k++) if (changed[k][1] !== null) fn(changed[k][1]!, changed[k][0]);
  }

  /** the client's address and TLS, made when read */
  get socket(): ClientSocket {
    if (this.#socket === null) {
      const client = this.#client;
      this.#socket = {
        get remoteAddress() {
          return client.remoteAddress;
        },
        encrypted: client.encrypted,
        destroy() {
          // nothing to close here: the answer is a Response
        },
      };
    }
    return this.#socket;
  }

  get headers(): RequestHeaders {
    if (this.#object === null) {
      const o: RequestHeaders = {};
      this.#each((value, name) => {
        o[name] = value;
      });
      this.#object = o;
    }
    return this.#object;
  }
  get rawHeaders(): string[] {
    if (this.#raw === null) {
      const raw: string[] = [];
      this.#each((value, name) => {
        raw.push(name, value);
      });
      this.#raw = raw;
    }
    return this.#raw;
  }
  get destroyed(): boolean {
    return this.#request.signal.aborted;
  }
  // no body
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {}
}

const NO_HEADERS: readonly string[] = Object.freeze([]);

/**
 * A ProxyResponse written whole before it goes out (module code's own answer, the gateway's
 * error answers): the head and the chunks, as a fetch Response once ended.
 */
export class FetchAnswer implements ProxyResponse {
  headersSent = false;
  writableEnded = false;
  destroyed = false;
  statusCode = 200;
  #headers: readonly string[] = NO_HEADERS;
  /** made on the first write (most module routes never answer themselves) */
  #chunks: Buffer[] | null = null;

  writeHead(statusCode: number, headers: readonly string[] = NO_HEADERS): this {
    this.statusCode = statusCode;
    this.#headers = headers;
    this.headersSent = true;
    return this;
  }
  write(chunk: Uint8Array | string): boolean {
    if (!this.headersSent) this.writeHead(this.statusCode);
    (this.#chunks ??= []).push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    return true;
  }
  end(chunk?: Uint8Array | string): this {
    if (this.writableEnded) return this;
    if (chunk !== undefined) this.write(chunk);
    else if (!this.headersSent) this.writeHead(this.statusCode);
    this.writableEnded = true;
    return this;
  }
  /** the client's connection closes without an answer (a head went out, the body could not follow) */
  destroy(): this {
    this.destroyed = true;
    this.writableEnded = true;
    return this;
  }
  once(): this {
    // nothing waits on it: the answer is whole when it goes out
    return this;
  }
  get bodyBytes(): number {
    let n = 0;
    if (this.#chunks !== null) for (const c of this.#chunks) n += c.length;
    return n;
  }

  /** the answer as written; an answer destroyed or never ended: a body that fails (the connection closes) */
  toResponse(): Response {
    const headers = headersOf(this.#headers);
    if (this.destroyed || !this.writableEnded) {
      const broken = new ReadableStream<Uint8Array>({
        start(c) {
          c.error(new Error('answer abandoned'));
        },
      });
      return new Response(broken, { status: this.statusCode, headers });
    }
    const chunks = this.#chunks;
    const body = chunks === null || chunks.length === 0 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    // the whole body is at hand: its length is said (and counted by the request's end event)
    if (body !== null && !headers.has('content-length')) headers.set('Content-Length', String(body.length));
    return new Response(body as unknown as BodyInit | null, { status: this.statusCode, headers });
  }
}

/** a flat [name, value, ...] list as fetch Headers (throws on a name or value fetch refuses) */
export function headersOf(list: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < list.length; i += 2) headers.append(list[i], list[i + 1]);
  return headers;
}

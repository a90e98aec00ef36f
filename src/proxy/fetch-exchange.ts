import type { ClientSocket, ProxyRequest, ProxyResponse, RequestHeaders } from '../platform/exchange.js';
import type { FetchClient } from '../platform/listener.js';

/**
 * A fetch Request without a body as the ProxyRequest module `ctx` reads (fetch-module-route.ts):
 * its headers (as identified) are turned into the object and the flat list only when read.
 */
export class FetchRequestView implements ProxyRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion = '1.1';
  readonly #request: Request;
  readonly #headers: Headers;
  readonly #client: FetchClient;
  #socket: ClientSocket | null = null;
  #object: RequestHeaders | null = null;
  #raw: string[] | null = null;

  constructor(request: Request, target: string, headers: Headers, client: FetchClient) {
    this.#request = request;
    this.method = request.method;
    this.url = target;
    this.#headers = headers;
    this.#client = client;
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
      this.#headers.forEach((value, name) => {
        o[name] = value;
      });
      this.#object = o;
    }
    return this.#object;
  }
  get rawHeaders(): string[] {
    if (this.#raw === null) {
      const raw: string[] = [];
      this.#headers.forEach((value, name) => {
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

/**
 * A ProxyResponse written whole before it goes out (module code's own answer, the gateway's
 * error answers): the head and the chunks, as a fetch Response once ended.
 */
export class FetchAnswer implements ProxyResponse {
  headersSent = false;
  writableEnded = false;
  destroyed = false;
  statusCode = 200;
  #headers: string[] = [];
  readonly #chunks: Buffer[] = [];

  writeHead(statusCode: number, headers: string[] = []): this {
    this.statusCode = statusCode;
    this.#headers = headers;
    this.headersSent = true;
    return this;
  }
  write(chunk: Uint8Array | string): boolean {
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.#chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
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
    for (const c of this.#chunks) n += c.length;
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
    const body = chunks.length === 0 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
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

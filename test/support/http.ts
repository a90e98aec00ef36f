/**
 * An HTTP client for tests that behaves the same on Node and Bun: the part of undici's
 * `request()` the tests use, over node:http (Bun's `undici` module is a partial stand-in).
 * Headers go out exactly as given (Host included); the answer's headers are node:http's
 * (lower-case names, set-cookie as a list).
 */
import http, { type IncomingHttpHeaders } from 'node:http';

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  /** an async iterable is sent chunked, as it comes */
  body?: string | Buffer | Uint8Array | AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
  dispatcher?: Agent;
  /** ms without any data from the server (before or during the answer) after which the request fails */
  headersTimeout?: number;
  bodyTimeout?: number;
}

export interface ResponseBody extends AsyncIterable<Buffer> {
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  /** reads and drops the rest of the body */
  dump(): Promise<void>;
}

export interface ResponseData {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: ResponseBody;
}

/** A connection pool (node:http's keep-alive Agent); `pipelining: 0` = a new connection per request. */
export class Agent {
  readonly agent: http.Agent;
  constructor(opts: { connections?: number; pipelining?: number } = {}) {
    this.agent = new http.Agent({ keepAlive: opts.pipelining !== 0, maxSockets: opts.connections ?? Infinity });
  }
  async close(): Promise<void> {
    this.agent.destroy();
  }
}

const shared = new Agent({ connections: 64 });

export function request(url: string | URL, opts: RequestOptions = {}): Promise<ResponseData> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: (opts.dispatcher ?? shared).agent, signal: opts.signal }, (res) => {
      resolve({ statusCode: res.statusCode!, headers: res.headers, body: bodyOf(res) });
    });
    req.on('error', reject);
    const idleMs = Math.max(opts.headersTimeout ?? 0, opts.bodyTimeout ?? 0);
    if (idleMs > 0) req.setTimeout(idleMs, () => req.destroy(new Error(`no data from ${String(url)} within ${idleMs} ms`)));
    const body = opts.body;
    if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
      req.end(body);
      return;
    }
    (async () => {
      for await (const chunk of body) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      req.end();
    })().catch((err: Error) => req.destroy(err));
  });
}

function bodyOf(res: http.IncomingMessage): ResponseBody {
  const bytes = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  return {
    [Symbol.asyncIterator]: () => res[Symbol.asyncIterator](),
    text: async () => (await bytes()).toString('utf8'),
    json: async () => JSON.parse((await bytes()).toString('utf8')) as unknown,
    arrayBuffer: async () => {
      const b = await bytes();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
    dump: async () => {
      res.resume();
      if (!res.complete) await new Promise<void>((r) => res.once('end', r).once('close', r));
    },
  };
}

import { promisify } from 'node:util';
import type { UpstreamHandler, UpstreamPool, UpstreamPoolOptions, UpstreamRequest } from '../upstream.js';

/** Bun's fetch errors by the code undici would have given the forwarder (it retries and maps on them). */
const CODES: Record<string, string> = {
  ConnectionRefused: 'ECONNREFUSED',
  FailedToOpenSocket: 'ECONNREFUSED',
  ConnectionClosed: 'ECONNRESET',
  ECONNRESET: 'ECONNRESET',
  ETIMEDOUT: 'UND_ERR_CONNECT_TIMEOUT',
};

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** methods that are tokens, checked without the regular expression */
const STANDARD_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

class UpstreamError extends Error {
  readonly code: string;
  constructor(message: string, code: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
  }
}

/**
 * Upstream requests through Bun's fetch, which keeps its own keep-alive connection pool per
 * origin: `redirect: 'manual'`, `decompress: false`, the request body streamed from the client,
 * the answer streamed with back-pressure (a chunk is read only when the client took the last).
 */
class FetchPool implements UpstreamPool {
  readonly #origin: string;
  readonly #opts: UpstreamPoolOptions;
  readonly #lookup: ((host: string, opts: object) => Promise<unknown>) | null;
  readonly #active = new Set<AbortController>();
  /** fetch's TLS options (https origins only: fetch reads them per request) */
  readonly #tls: { rejectUnauthorized: boolean } | undefined;

  constructor(opts: UpstreamPoolOptions) {
    this.#origin = opts.origin.replace(/\/$/, '');
    this.#opts = opts;
    this.#tls = this.#origin.startsWith('https:') ? { rejectUnauthorized: opts.rejectUnauthorized } : undefined;
    this.#lookup = opts.lookup === null ? null : (promisify(opts.lookup) as unknown as (host: string, opts: object) => Promise<unknown>);
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean {
    const ac = new AbortController();
    let reason: Error | null = null;
    handler.onConnect((err) => {
      if (reason !== null) return;
      reason = err ?? new Error('upstream request aborted');
      ac.abort(reason);
    });
    void this.#run(request, handler, ac, () => reason);
    return true;
  }

  async #run(request: UpstreamRequest, handler: UpstreamHandler, ac: AbortController, aborted: () => Error | null): Promise<void> {
    const o = this.#opts;
    this.#active.add(ac);
    let timer: ReturnType<typeof setTimeout> | null = null;
    try {
      if (o.refuse !== null) throw o.refuse;
      const init = this.#init(request, ac.signal);
      if (this.#lookup !== null) await this.#lookup(new URL(this.#origin).hostname, { all: true });
      if (o.headersTimeoutMs !== undefined) {
        const ms = o.headersTimeoutMs;
        timer = setTimeout(() => ac.abort(new UpstreamError(`upstream sent no response head within ${ms} ms`, 'UND_ERR_HEADERS_TIMEOUT')), ms);
      }
      let res: Response;
      try {
        res = await fetch(this.#origin + request.path, init);
      } catch (err) {
        // fetch refuses a header name or value (set by module code) before sending anything
        const code = (err as { code?: unknown }).code;
        if (err instanceof TypeError && (code === undefined || (typeof code === 'string' && code.startsWith('ERR_INVALID')))) {
          throw new UpstreamError(`invalid request: ${err.message}`, 'UND_ERR_INVALID_ARG', err);
        }
        throw err;
      }
      if (timer !== null) clearTimeout(timer);
      timer = null;
      if (aborted() !== null) throw aborted();
      if (handler.onResponse?.(res.status, res.headers, res.body, res) === true) return;
      const raw: string[] = [];
      res.headers.forEach((value, name) => {
        if (name !== 'set-cookie') raw.push(name, value);
      });
      for (const cookie of res.headers.getSetCookie()) raw.push('set-cookie', cookie);
      let wake: (() => void) | null = null;
      let paused = false;
      const resume = () => {
        paused = false;
        const w = wake;
        wake = null;
        w?.();
      };
      if (!handler.onHeaders(res.status, raw, resume)) paused = true;
      const body = res.body;
      if (body !== null) {
        const reader = body.getReader();
        for (;;) {
          if (paused) await new Promise<void>((r) => (wake = r));
          if (aborted() !== null) {
            void reader.cancel().catch(() => undefined);
            throw aborted();
          }
          const { done, value } = await reader.read();
          if (done) break;
          if (!handler.onData(Buffer.from(value.buffer, value.byteOffset, value.byteLength))) paused = true;
        }
      }
      if (aborted() !== null) throw aborted();
      handler.onComplete(null);
    } catch (err) {
      handler.onError(aborted() ?? toUpstreamError(err));
    } finally {
      if (timer !== null) clearTimeout(timer);
      this.#active.delete(ac);
    }
  }

  #init(request: UpstreamRequest, signal: AbortSignal): RequestInit {
    if (!TOKEN.test(request.method)) throw new UpstreamError(`invalid request method ${JSON.stringify(request.method)}`, 'UND_ERR_INVALID_ARG');
    // a Headers costs fetch less than a list of pairs (~3-5 µs per request for a dozen headers)
    const h = request.headers;
    const headers = new Headers();
    try {
      for (let i = 0; i < h.length; i += 2) headers.append(h[i], h[i + 1]);
    } catch (err) {
      // a header name or value set by module code that HTTP does not allow
      throw new UpstreamError(`invalid request: ${(err as Error).message}`, 'UND_ERR_INVALID_ARG', err);
    }
    const body = request.body;
    const init: RequestInit & Record<string, unknown> = {
      method: request.method,
      headers,
      redirect: 'manual',
      decompress: false,
      keepalive: this.#opts.keepAlive,
      signal,
    };
    if (this.#tls !== undefined) init.tls = this.#tls;
    if (body !== null) {
      init.body = (Buffer.isBuffer(body) ? body : streamOf(body)) as unknown as BodyInit;
      init.duplex = 'half';
    }
    return init;
  }

  async send(path: string, method: string, headers: Headers, signal: AbortSignal, body: Buffer | null = null): Promise<Response> {
    const o = this.#opts;
    if (o.refuse !== null) throw o.refuse;
    if (!STANDARD_METHODS.has(method) && !TOKEN.test(method)) throw new UpstreamError(`invalid request method ${JSON.stringify(method)}`, 'UND_ERR_INVALID_ARG');
    const init: RequestInit & Record<string, unknown> = { method, headers, redirect: 'manual', decompress: false, keepalive: o.keepAlive, signal };
    if (body !== null) init.body = body as unknown as BodyInit;
    if (this.#tls !== undefined) init.tls = this.#tls;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let timedOut: Error | null = null;
    let ac: AbortController | null = null;
    let stop: (() => void) | null = null;
    try {
      if (this.#lookup !== null) await this.#lookup(new URL(this.#origin).hostname, { all: true });
      if (o.headersTimeoutMs !== undefined) {
        const ms = o.headersTimeoutMs;
        const own = (ac = new AbortController());
        stop = () => own.abort(signal.reason);
        signal.addEventListener('abort', stop, { once: true });
        init.signal = ac.signal;
        timer = setTimeout(() => {
          timedOut = new UpstreamError(`upstream sent no response head within ${ms} ms`, 'UND_ERR_HEADERS_TIMEOUT');
          ac!.abort(timedOut);
        }, ms);
      }
      return await fetch(this.#origin + path, init);
    } catch (err) {
      if (timedOut !== null) throw timedOut;
      if (signal.aborted) throw signal.reason ?? err;
      // fetch refuses a header name or value before sending anything
      const code = (err as { code?: unknown }).code;
      if (err instanceof TypeError && (code === undefined || (typeof code === 'string' && code.startsWith('ERR_INVALID')))) {
        throw new UpstreamError(`invalid request: ${err.message}`, 'UND_ERR_INVALID_ARG', err);
      }
      throw toUpstreamError(err);
    } finally {
      if (timer !== null) clearTimeout(timer);
      if (stop !== null) signal.removeEventListener('abort', stop);
    }
  }

  async close(): Promise<void> {}

  async destroy(): Promise<void> {
    for (const ac of this.#active) ac.abort(new UpstreamError('upstream pool closed', 'UND_ERR_DESTROYED'));
    this.#active.clear();
  }
}

/** The client's body as a web stream that reads the next chunk only when fetch asks for it. */
function streamOf(source: AsyncIterable<Buffer>): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await it.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}

function toUpstreamError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const code = (err as { code?: string }).code;
  if (code === undefined) return err;
  const mapped = CODES[code];
  if (mapped === undefined || mapped === code) return err;
  return new UpstreamError(err.message, mapped, err);
}

export function createUpstreamPool(opts: UpstreamPoolOptions): UpstreamPool {
  return new FetchPool(opts);
}

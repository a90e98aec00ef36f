/**
 * Helpers for the module tests: a namespace of its own per test (reached through a domain
 * `<ns>.modules.test`), module payloads from source text, proxy calls that give up instead of
 * hanging, and small local upstreams that record what they receive.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from './http.js';
import type { AdminAnswer, TestGateway } from './gateway.js';

export const b64 = (source: string): string => Buffer.from(source, 'utf8').toString('base64');

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** milliseconds from sending the request to the end of the answer */
  ms: number;
  json<T = any>(): T;
}

export interface CallOptions {
  method?: string;
  host?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** give up (the call rejects) after this many ms; default 5000 */
  timeoutMs?: number;
}

/** A proxy request that rejects instead of waiting forever for an answer that never ends. */
export async function call(gw: TestGateway, path: string, opts: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string | string[]> = { ...(opts.headers ?? {}) };
  if (opts.host !== undefined) headers.host = opts.host;
  const start = performance.now();
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 5000);
  try {
    const res = await request(gw.proxyUrl + path, { method: (opts.method ?? 'GET') as any, headers, body: opts.body, signal });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, ms: performance.now() - start, json: () => JSON.parse(text) };
  } catch (err) {
    if (signal.aborted) throw new Error(`no complete answer to ${opts.method ?? 'GET'} ${path} within ${opts.timeoutMs ?? 5000} ms`);
    throw err;
  }
}

/** One header of an answer as a single string (several values joined by ", "). */
export function header(a: Answer, name: string): string | undefined {
  const v = a.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A namespace of one test: its modules, services and routes, and calls with its Host. */
export class Scope {
  readonly gw: TestGateway;
  readonly ns: string;
  readonly host: string;

  constructor(gw: TestGateway, ns: string) {
    this.gw = gw;
    this.ns = ns;
    this.host = `${ns}.modules.test`;
  }

  /** PUT /module; the raw admin answer (for refusals) */
  putModule(name: string, source: string, moduleType?: 'typescript' | 'javascript'): Promise<AdminAnswer> {
    const body: Record<string, unknown> = { name, namespace: this.ns, payload: b64(source) };
    if (moduleType !== undefined) body.moduleType = moduleType;
    return this.gw.admin('PUT', '/api/v1/module', body);
  }

  /** PUT /module, failing unless it is accepted */
  async module(name: string, source: string, moduleType?: 'typescript' | 'javascript'): Promise<void> {
    const res = await this.putModule(name, source, moduleType);
    if (res.status !== 201) throw new Error(`PUT module ${name} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  putRoute(route: Record<string, unknown>): Promise<AdminAnswer> {
    return this.gw.admin('PUT', '/api/v1/route', { methods: ['*'], namespace: this.ns, ...route });
  }

  async route(route: Record<string, unknown>): Promise<void> {
    const res = await this.putRoute(route);
    if (res.status !== 201) throw new Error(`PUT route ${String(route.name)} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  async service(name: string, urls: string[], extra: Record<string, unknown> = {}): Promise<void> {
    await this.gw.put('service', { name, namespace: this.ns, urls, ...extra });
  }

  get(kind: string, name: string): Promise<AdminAnswer> {
    return this.gw.admin('GET', `/api/v1/${kind}/${encodeURIComponent(name)}?namespace=${encodeURIComponent(this.ns)}`);
  }

  call(path: string, opts: CallOptions = {}): Promise<Answer> {
    return call(this.gw, path, { host: this.host, ...opts });
  }
}

/** A fresh namespace with a domain routing `<ns>.modules.test` to it. */
export async function scope(gw: TestGateway, ns: string): Promise<Scope> {
  await gw.put('namespace', { name: ns });
  await gw.put('domain', { name: `${ns}-domain`, namespace: ns, patterns: [`${ns}.modules.test`] });
  return new Scope(gw, ns);
}

export interface Hit {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Upstream {
  url: string;
  hits: Hit[];
  close(): Promise<void>;
}

export type UpstreamHandler = (hit: Hit, res: ServerResponse) => void;

/** A local upstream that records each request; answers 200 JSON {ok, path} unless a handler is given. */
export async function startUpstream(handler?: UpstreamHandler): Promise<Upstream> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit: Hit = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      hits.push(hit);
      if (handler !== undefined) return handler(hit, res);
      const text = JSON.stringify({ ok: true, path: req.url });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Answers JSON with the given status. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** Closes a gateway, giving up after a while (an answer left hanging must not hang the whole file). */
export async function closeGateway(gw: TestGateway | undefined): Promise<void> {
  if (gw === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gw.close(), new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))]);
  clearTimeout(timer);
}

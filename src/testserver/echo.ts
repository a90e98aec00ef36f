/**
 * DGate's debug echo upstream (config `test_server`): answers any request with a JSON
 * description of what it received, so proxy tests can see what reached the upstream.
 *
 *   200 {"data":{"method","path","body","host","remote_addr","req_headers","global_headers"},"status_code":200}
 *
 * Query parameters (extensions are marked):
 *   ?wait=<duration>  sleep first ("50ms", "1s"); adds "waited": "<value>"; bad → 400
 *                     {"error":"Invalid wait time: X","status":400} (DGate's behaviour)
 *   ?status=<code>    answer with that status (200–599) instead of 200 [extension]
 *   ?size=<bytes>     answer with that many bytes of "x" as text/plain, streamed [extension]
 *
 * `global_headers` are set on every response. Unlike DGate, the environment is never echoed
 * and there is no /debug/pprof. `req_headers` keeps header names as the client sent them
 * (grouped case-insensitively under the first spelling seen), including Host.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseDuration } from '../config/duration.js';
import { listen } from '../net/listen.js';

export interface EchoServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  readonly globalHeaders?: Readonly<Record<string, string>>;
  /** called with the path and query of a request when its ?wait= sleep begins (tests wait on it) */
  readonly onSleep?: (path: string) => void;
}

export interface EchoServer {
  /** http://host:port (a wildcard listen address is replaced by loopback). */
  readonly url: string;
  readonly port: number;
  /**
   * Stops listening, closes idle keep-alive connections, cuts ?wait= sleeps short and
   * resolves once in-flight requests are answered.
   */
  close(): Promise<void>;
}

const SIZE_CHUNK = 64 * 1024;

export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const host = options.host ?? '127.0.0.1';
  const globalHeaders = { ...(options.globalHeaders ?? {}) };
  // Wakers of requests sleeping on ?wait=, so close() can cut their sleep short.
  const sleepers = new Set<() => void>();
  const state = { closing: false, onSleep: options.onSleep };

  const server = createServer((req, res) => {
    handle(req, res, globalHeaders, sleepers, state).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'echo server error', status: 500 });
      else res.destroy();
    });
  });

  const port = await listen(server, options.port ?? 0, host);
  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        state.closing = true;
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
        for (const wake of sleepers) wake();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  globalHeaders: Record<string, string>,
  sleepers: Set<() => void>,
  state: { closing: boolean; onSleep: ((path: string) => void) | undefined },
): Promise<void> {
  for (const [name, value] of Object.entries(globalHeaders)) res.setHeader(name, value);

  const rawPath = req.url ?? '/';
  const query = new URL(rawPath, 'http://echo.invalid').searchParams;
  const body = await readBody(req);

  const wait = query.get('wait');
  let waitNs = 0;
  if (wait !== null) {
    const ns = parseDuration(wait);
    if (ns === null) return sendJson(res, 400, { error: `Invalid wait time: ${wait}`, status: 400 });
    waitNs = ns;
  }
  const status = query.has('status') ? parseStatus(query.get('status') as string) : 200;
  if (status === null) return sendJson(res, 400, { error: `Invalid status: ${query.get('status')}`, status: 400 });
  const sizeText = query.get('size');
  const size = sizeText === null ? null : parseSize(sizeText);
  if (sizeText !== null && size === null) return sendJson(res, 400, { error: `Invalid size: ${sizeText}`, status: 400 });

  // A request that arrives while closing is not put to sleep: close() already woke the sleepers.
  if (waitNs > 0 && !state.closing) {
    const slept = sleep(waitNs / 1e6, sleepers);
    state.onSleep?.(rawPath);
    await slept;
  }
  // Answers given while closing end their connection, so close() need not wait for keep-alive.
  if (state.closing) res.setHeader('connection', 'close');
  if (size !== null) return sendFiller(res, status, size);

  const data: Record<string, unknown> = {
    method: req.method,
    path: rawPath,
    body: body.toString('utf8'),
    host: req.headers.host ?? '',
    remote_addr: remoteAddr(req),
    req_headers: headersFromRaw(req.rawHeaders),
    global_headers: globalHeaders,
  };
  if (wait !== null) data['waited'] = wait;
  sendJson(res, status, { data, status_code: status });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (status === 204 || status === 304) {
    // These statuses carry no body.
    res.writeHead(status);
    res.end();
    return;
  }
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Streams `size` bytes of "x", respecting backpressure. */
function sendFiller(res: ServerResponse, status: number, size: number): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': size });
  const chunk = Buffer.alloc(Math.min(size, SIZE_CHUNK), 'x');
  let left = size;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    left = 0; // client went away: stop producing
  });
  pump();
}

function parseStatus(text: string): number | null {
  if (!/^\d{3}$/.test(text)) return null;
  const n = Number(text);
  return n >= 200 && n <= 599 ? n : null;
}

function parseSize(text: string): number | null {
  if (!/^\d{1,15}$/.test(text)) return null;
  return Number(text);
}

function sleep(ms: number, sleepers: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      sleepers.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    sleepers.add(wake);
  });
}

/** Header name → values, in arrival order, from the raw [name, value, name, value…] list. */
function headersFromRaw(raw: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const spelling = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const key = spelling.get(name.toLowerCase()) ?? name;
    spelling.set(name.toLowerCase(), key);
    (out[key] ??= []).push(raw[i + 1] as string);
  }
  return out;
}

/** Go's "ip:port" form ("[::1]:1234" for IPv6). */
function remoteAddr(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '';
  const port = req.socket.remotePort ?? 0;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

import cluster from 'node:cluster';
import type { ProxyRequest, ProxyResponse } from '../platform/exchange.js';
import { createListener, type BunListenerChoice, type FetchClient, type Http2Limits, type HttpListener, type UpgradeOptions, type WebSocketUpgrade } from '../platform/listener.js';
import { createTlsListener, type TlsCertificate, type TlsHttpListener } from '../platform/tls-listener.js';
import type { ListenerLimits, OnRefusal } from '../platform/listener-limits.js';
import type { UpstreamPool } from '../platform/upstream.js';
import type { RuntimeTable } from '../runtime/table.js';
import { channels } from '../observability/channels.js';
import { passthrough } from './passthrough.js';
import { handleRequest, type PipelineOptions } from './pipeline.js';
import { observeRequest } from './request-meter.js';

/** proxy.tls: the HTTPS listener beside the plain one. */
export interface ProxyTlsOptions {
  port: number;
  /** certificate for names no domain certificate matches (cert_file/key_file or generated); null = none */
  fallback: TlsCertificate | null;
}

export interface ProxyServerOptions {
  host: string;
  port: number;
  /** null: no TLS listener */
  tls: ProxyTlsOptions | null;
  strictMode: boolean;
  xForwarded: boolean;
  globalHeaders: readonly string[];
  /** time budget of an asynchronous module function call, ms */
  moduleTimeoutMs: number;
  /** proxy.request_id.enabled */
  requestId: boolean;
  /** proxy.tracing.start_traceparent */
  startTraceparent: boolean;
  /** proxy.websocket */
  websocket: { idleTimeoutMs: number; maxMessageBytes: number };
  /** header, URL, timeout and connection limits of the listener */
  limits: ListenerLimits;
  /** request body limit of routes without maxBodyBytes, bytes; 0 = none */
  maxBodyBytes: number;
  /** cleartext HTTP/2 on the plain port under these limits (proxy.enable_h2c); null = off */
  h2c: Http2Limits | null;
  /** HTTP/2 (ALPN h2) on the TLS listener under these limits (proxy.enable_http2); null = off */
  http2: Http2Limits | null;
  /** on Bun, the plain port's HTTP/1.1 server (proxy.bun_listener) */
  bunListener: BunListenerChoice;
}

/**
 * The proxy listeners (plain HTTP, and HTTPS when proxy.tls is set). Serves every request from
 * the runtime table it holds; `swap` replaces the table by reference, so requests in flight
 * finish on the table they started with, and hands the TLS listener the table's domain
 * certificates when they changed.
 */
export class ProxyServer {
  readonly #server: HttpListener;
  readonly #tls: TlsHttpListener | null;
  readonly #opts: PipelineOptions;
  #table: RuntimeTable<UpstreamPool> | null = null;
  #tlsPort: number | null = null;

  readonly #onTlsError: (err: Error) => void;

  /** `onTlsError`: new domain certificates could not be put in use (the previous ones stay) */
  constructor(listen: { host: string; port: number; limits: ListenerLimits; onRefusal: OnRefusal; tls: ProxyTlsOptions | null; h2c: Http2Limits | null; http2: Http2Limits | null; bunListener?: BunListenerChoice; onTlsError?: (err: Error) => void }, opts: PipelineOptions) {
    // the configured port until the listener has bound (port 0: the one the OS picked)
    this.#opts = { ...opts, httpsPort: listen.tls === null || listen.tls.port === 0 ? null : listen.tls.port };
    this.#onTlsError = listen.onTlsError ?? (() => {});
    const serve = (req: ProxyRequest, res: ProxyResponse, upgrade: WebSocketUpgrade | null) => {
      if (channels.requestEnd.hasSubscribers || channels.requestStart.hasSubscribers) observeRequest(req, res);
      const table = this.#table;
      if (table === null) {
        res.writeHead(503, ['Content-Type', 'text/plain; charset=utf-8', 'Retry-After', '1']);
        res.end('Service Unavailable\n');
        return;
      }
      handleRequest(table, req, res, this.#opts, upgrade);
    };
    const handler = (req: ProxyRequest, res: ProxyResponse) => serve(req, res, null);
    // WebSocket upgrades on both listeners (ws:// and wss://)
    const upgrade: UpgradeOptions = { handler: serve, idleTimeoutMs: opts.websocket.idleTimeoutMs, maxMessageBytes: opts.websocket.maxMessageBytes };
    // Worker processes bind the same port (node:cluster shares node:http's socket; Bun.serve uses SO_REUSEPORT).
    const reusePort = cluster.isWorker;
    // the passthrough route straight from fetch API objects, where the listener is built on them (Bun)
    const limits = listen.limits;
    const direct = (request: Request, target: string, client: FetchClient) => passthrough(this.#table, request, target, client, this.#opts, limits);
    this.#server = createListener({ host: listen.host, port: listen.port, reusePort, h2c: listen.h2c, limits, onRefusal: listen.onRefusal, connections: channels.connection, direct, bunListener: listen.bunListener }, handler, upgrade);
    this.#tls = listen.tls === null ? null : createTlsListener({ host: listen.host, port: listen.tls.port, reusePort, limits: listen.limits, onRefusal: listen.onRefusal, connections: channels.connection, fallback: listen.tls.fallback, h2: listen.http2, h2c: null }, handler, upgrade);
  }

  get table(): RuntimeTable<UpstreamPool> | null {
    return this.#table;
  }

  /** the TLS listener's port once listening; null without one */
  get tlsPort(): number | null {
    return this.#tlsPort;
  }

  swap(table: RuntimeTable<UpstreamPool>): void {
    const before = this.#table;
    this.#table = table;
    if (this.#tls !== null && before?.certificates !== table.certificates) this.#tls.setCertificates(table.certificates).catch(this.#onTlsError);
  }

  /** Binds the listeners; resolves with the plain listener's port. */
  async listen(): Promise<number> {
    const port = await this.#server.listen();
    if (this.#tls !== null) {
      this.#tlsPort = await this.#tls.listen();
      this.#opts.httpsPort = this.#tlsPort;
    }
    return port;
  }

  async close(): Promise<void> {
    await Promise.all([this.#server.close(), this.#tls?.close()]);
  }
}

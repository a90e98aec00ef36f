import cluster from 'node:cluster';
import { createListener, type Http2Limits, type HttpListener } from '../platform/listener.js';
import type { UpstreamPool } from '../platform/upstream.js';
import type { RuntimeTable } from '../runtime/table.js';
import { handleRequest, type PipelineOptions } from './pipeline.js';

export interface ProxyServerOptions {
  host: string;
  port: number;
  strictMode: boolean;
  xForwarded: boolean;
  globalHeaders: readonly string[];
  /** time budget of an asynchronous module function call, ms */
  moduleTimeoutMs: number;
  /** cleartext HTTP/2 on the same port under these limits (proxy.enable_h2c); null = off */
  h2c: Http2Limits | null;
}

/**
 * The proxy listener. Serves every request from the runtime table it holds; `swap` replaces the
 * table by reference, so requests in flight finish on the table they started with.
 */
export class ProxyServer {
  readonly #server: HttpListener;
  readonly #opts: PipelineOptions;
  #table: RuntimeTable<UpstreamPool> | null = null;

  constructor(listen: { host: string; port: number; h2c: Http2Limits | null }, opts: PipelineOptions) {
    this.#opts = opts;
    // Worker processes bind the same port (node:cluster shares node:http's socket; Bun.serve uses SO_REUSEPORT).
    this.#server = createListener({ ...listen, reusePort: cluster.isWorker }, (req, res) => {
      const table = this.#table;
      if (table === null) {
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' });
        res.end('Service Unavailable\n');
        return;
      }
      handleRequest(table, req, res, this.#opts);
    });
  }

  get table(): RuntimeTable<UpstreamPool> | null {
    return this.#table;
  }

  swap(table: RuntimeTable<UpstreamPool>): void {
    this.#table = table;
  }

  listen(): Promise<number> {
    return this.#server.listen();
  }

  close(): Promise<void> {
    return this.#server.close();
  }
}

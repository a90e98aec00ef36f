import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
}

/**
 * The proxy listener. Serves every request from the runtime table it holds; `swap` replaces the
 * table by reference, so requests in flight finish on the table they started with.
 */
export class ProxyServer {
  readonly #server: http.Server;
  readonly #listen: { host: string; port: number };
  readonly #opts: PipelineOptions;
  #table: RuntimeTable<UpstreamPool> | null = null;

  constructor(listen: { host: string; port: number }, opts: PipelineOptions) {
    this.#listen = listen;
    this.#opts = opts;
    this.#server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
      const table = this.#table;
      if (table === null) {
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' });
        res.end('Service Unavailable\n');
        return;
      }
      handleRequest(table, req, res, this.#opts);
    });
    this.#server.on('clientError', (err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  get table(): RuntimeTable<UpstreamPool> | null {
    return this.#table;
  }

  swap(table: RuntimeTable<UpstreamPool>): void {
    this.#table = table;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#listen.port, this.#listen.host, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
  }
}

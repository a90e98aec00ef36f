import type { Pool } from 'undici';
import type { State } from '../core/state.js';
import { buildRuntimeTable, type TableOptions } from '../runtime/table.js';
import { PoolRegistry, type TransportOptions } from './pools.js';
import { ProxyServer, type ProxyServerOptions } from './server.js';

export interface DataPlaneOptions {
  server: ProxyServerOptions;
  table: TableOptions;
  transport: TransportOptions;
}

/**
 * One proxy listener with its pools: turns each new state revision into a runtime table
 * and swaps it in. Runs in a worker process, or in the main process when proxy.workers is 0.
 */
export class DataPlane {
  readonly #server: ProxyServer;
  readonly #pools: PoolRegistry;
  readonly #tableOpts: TableOptions;

  constructor(opts: DataPlaneOptions) {
    this.#server = new ProxyServer(opts.server);
    this.#pools = new PoolRegistry(opts.transport);
    this.#tableOpts = opts.table;
  }

  /** revision currently served, -1 before the first state */
  get rev(): number {
    return this.#server.table?.rev ?? -1;
  }

  /** Builds the table of `state` and serves it from the next request on. */
  apply(state: State): void {
    const table = buildRuntimeTable<Pool>(state, this.#tableOpts, this.#pools);
    this.#server.swap(table);
    this.#pools.sweep();
  }

  listen(): Promise<number> {
    return this.#server.listen();
  }

  async close(): Promise<void> {
    await this.#server.close();
    await this.#pools.close();
  }
}

#!/usr/bin/env node
/**
 * dgate-server: the proxy and the admin API in one command.
 *   dgate-server [--config FILE | -c FILE]   (anything else: usage on stderr, exit code 2)
 * Without a config file it runs on built-in defaults: proxy on 0.0.0.0:8080, admin API on
 * 127.0.0.1:9080, state in ./.dgate/dgate.db.
 */
import { fileURLToPath } from 'node:url';
import { configuredRuntime, loadConfig } from '../config/load.js';
import { parseServerArguments, SERVER_USAGE } from '../config/server-arguments.js';
import { GatewayError } from '../core/errors.js';
import { followLauncher, relaunch, releaseHeap, resolveRuntime } from '../platform/choose.js';

/** Exit codes: 1 the gateway could not start (config, ports, store); 2 a usage error. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<void> {
  const args = parseServerArguments(argv);
  switch (args.action) {
    case 'help':
      process.stdout.write(SERVER_USAGE);
      return;
    case 'version':
      process.stdout.write(`dgate-server ${(await import('../main.js')).VERSION}\n`);
      return;
    case 'usage-error':
      process.stderr.write(`dgate-server: ${args.message}\n\n${SERVER_USAGE}`);
      process.exit(EXIT_USAGE);
  }
  // A process that relaunches the server on another runtime only waits for it: it neither
  // parses the whole config nor loads the gateway's modules.
  const load = { argv, env: process.env, cwd: process.cwd() };
  const runtime = resolveRuntime(args.runtime ?? configuredRuntime(load));
  if (runtime.executable !== null) return relaunch(runtime.executable, fileURLToPath(import.meta.url), argv);
  followLauncher();
  const [{ startGateway }, { createLogger }, { installProcessGuards }] = await Promise.all([
    import('../main.js'),
    import('../observability/log.js'),
    import('../observability/process-guards.js'),
  ]);
  const config = loadConfig({ ...load, collectGarbage: releaseHeap });
  releaseHeap();
  const logger = createLogger({ level: config.logLevel, nodeId: config.nodeId });
  installProcessGuards(logger);
  const gateway = await startGateway(config, logger);
  releaseHeap();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof GatewayError || (err instanceof Error && (err as { code?: string }).code === 'EADDRINUSE') ? err.message : String((err as Error)?.stack ?? err);
  process.stderr.write(`dgate-server: ${message}\n`);
  process.exit(EXIT_FAILURE);
});

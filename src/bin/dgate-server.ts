#!/usr/bin/env node
/**
 * dgate-server: the proxy and the admin API in one command.
 *   dgate-server [--config FILE | -c FILE]
 * Without a config file it runs on built-in defaults: proxy on 0.0.0.0:8080, admin API on
 * 127.0.0.1:9080, state in ./.dgate/dgate.db.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { GatewayError } from '../core/errors.js';
import { startGateway, VERSION } from '../main.js';
import { createLogger } from '../observability/log.js';
import { installProcessGuards } from '../observability/process-guards.js';
import { followLauncher, relaunch, resolveRuntime, runtimeFlag } from '../platform/choose.js';

const USAGE = `Usage: dgate-server [--config FILE] [--runtime auto|node|bun]

Options:
  -c, --config FILE   config file (YAML or JSON); also DG_CONFIG_PATH, else ./config.dgate.{yml,yaml,json}
  --runtime NAME      run on bun or node (default: the config key runtime, else bun when installed)
  -v, --version       print the version
  -h, --help          print this help
`;

async function main(argv: string[]): Promise<void> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(USAGE);
    return;
  }
  if (argv.includes('-v') || argv.includes('--version')) {
    process.stdout.write(`dgate-server ${VERSION}\n`);
    return;
  }
  const config = loadConfig({ argv, env: process.env, cwd: process.cwd() });
  const runtime = resolveRuntime(runtimeFlag(argv) ?? config.runtime);
  if (runtime.executable !== null) return relaunch(runtime.executable, fileURLToPath(import.meta.url), argv);
  followLauncher();
  const logger = createLogger({ level: config.logLevel, nodeId: config.nodeId });
  installProcessGuards(logger);
  const gateway = await startGateway(config, logger);
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
  process.exit(1);
});

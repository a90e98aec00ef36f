/**
 * The server log: JSON lines on stdout, one logger per process, every line carrying the node id.
 * Lines are written synchronously so the last ones before a crash are not lost.
 *
 * Line shape: {"level":"info","time":"2024-01-01T00:00:00.000Z","node_id":"n1","msg":"..."}
 * (level as a name, ISO time). Use `logger.child({ component: 'proxy' })` for sub-loggers.
 */
import pino from 'pino';
import type { LogLevel } from '../config/config.js';

export interface LoggerOptions {
  readonly level: LogLevel | 'silent';
  readonly nodeId: string;
  /** Where lines go; default a synchronous stdout writer. Tests pass a capture stream. */
  readonly destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): pino.Logger {
  const destination = options.destination ?? pino.destination({ fd: 1, sync: true });
  return pino(
    {
      level: options.level,
      base: { node_id: options.nodeId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

import type { Logger } from 'pino';

/**
 * A promise rejected with nobody listening (typically in module code: a fetch().then(...) whose
 * callback throws) is logged, not fatal: Node's default would end the process and every request
 * it serves.
 */
export function installProcessGuards(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    const e = reason as Error;
    logger.error({ source: 'module', error: String(e?.message ?? reason), stack: typeof e?.stack === 'string' ? e.stack : undefined }, 'unhandled promise rejection');
  });
}

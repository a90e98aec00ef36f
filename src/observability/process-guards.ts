import type { Logger } from 'pino';
import { channels } from './channels.js';

/** `dgate://<namespace>/<module>.<ts|js>`: the file name module code is compiled with. */
const MODULE_FRAME = /dgate:\/\/([^/\s]+)\/([^\s/)]+?)\.(?:ts|js)\b/;

/**
 * A promise rejected with nobody listening (typically in module code: a fetch().then(...) whose
 * callback throws) is logged, not fatal: Node's default would end the process and every request
 * it serves. When its stack points into a module, it is also that module's log line.
 */
export function installProcessGuards(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    const e = reason as Error;
    const stack = typeof e?.stack === 'string' ? e.stack : undefined;
    logger.error({ source: 'module', error: String(e?.message ?? reason), stack }, 'unhandled promise rejection');
    const frame = stack === undefined ? null : MODULE_FRAME.exec(stack);
    if (frame !== null && channels.moduleLog.hasSubscribers) {
      channels.moduleLog.publish({ namespace: frame[1]!, module: frame[2]!, route: null, requestId: null, level: 'error', message: `unhandled promise rejection: ${stack}`, time: Date.now() });
    }
  });
}

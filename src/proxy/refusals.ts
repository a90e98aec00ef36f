import type { Logger } from 'pino';
import type { RefusalReason } from '../platform/listener-limits.js';
import { channels } from '../observability/channels.js';

/**
 * Requests and connections the listener refused (oversized heads, slow clients, smuggling
 * attempts, the connection cap): counted per reason and logged at debug level only, so that an
 * attack cannot flood the log.
 */
export class RefusalLog {
  readonly #log: Logger;
  readonly counts = new Map<RefusalReason, number>();

  constructor(log: Logger) {
    this.#log = log;
  }

  readonly note = (reason: RefusalReason): void => {
    const count = (this.counts.get(reason) ?? 0) + 1;
    this.counts.set(reason, count);
    if (channels.refusal.hasSubscribers) channels.refusal.publish({ reason });
    if (this.#log.isLevelEnabled('debug')) this.#log.debug({ reason, count }, 'request refused by the proxy listener');
  };
}

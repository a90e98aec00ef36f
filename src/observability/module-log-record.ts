/**
 * Module log lines as they travel from a proxy process to its node's buffer (IPC, JSON) and
 * as the admin API answers them. A line is module console output or an uncaught error of
 * module code (channels.moduleLog); a line with `dropped` says how many lines of that module
 * were dropped before it (rate limit, or a reader that could not keep up).
 */

export const MODULE_LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type ModuleLogLevelName = (typeof MODULE_LOG_LEVELS)[number];

/** debug 0 … error 3: a level filter keeps lines at or above it. */
export const LEVEL_RANK: Readonly<Record<ModuleLogLevelName, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface ModuleLogRecord {
  /** ms since the epoch */
  readonly time: number;
  readonly namespace: string;
  /** null when the calling module could not be told (e.g. a line from a timer callback's caller) */
  readonly module: string | null;
  /** null outside a hook call (timers, top-level code) */
  readonly route: string | null;
  /** the X-Request-Id of the request whose hook was running, null when none */
  readonly requestId: string | null;
  readonly level: ModuleLogLevelName;
  readonly message: string;
  /** process id of the proxy process the line comes from */
  readonly pid: number;
  /** set on the line that reports dropped lines: how many */
  readonly dropped?: number;
}

/** A record kept in the node's buffer: `seq` orders every line of the node (SSE event id). */
export interface ModuleLogLine extends ModuleLogRecord {
  readonly seq: number;
}

/** The settings (config `proxy.module_logs`) and their defaults. */
export interface ModuleLogSettings {
  /** lines kept per module on the node; 0 = module lines are not collected */
  readonly bufferLines: number;
  /** lines per second a module may log in one proxy process (bursts up to this many) */
  readonly rateLimit: number;
  /** longer messages are cut to this many characters */
  readonly maxLineLength: number;
}

export const MODULE_LOG_DEFAULTS: ModuleLogSettings = { bufferLines: 1000, rateLimit: 200, maxLineLength: 8192 };

/** How often a proxy process sends its collected lines, and the most one batch carries. */
export const MODULE_LOG_BATCH = { intervalMs: 100, lines: 1000, chars: 256 * 1024 } as const;

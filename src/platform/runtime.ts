/** Which JavaScript runtime this process runs on. */
export type RuntimeName = 'node' | 'bun';

export const isBun: boolean = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined';

export const runtimeName: RuntimeName = isBun ? 'bun' : 'node';

/** The runtime's version, e.g. `22.11.0` or `1.4.5`. */
export const runtimeVersion: string = isBun ? (process.versions as Record<string, string | undefined>)['bun'] ?? 'unknown' : process.versions.node;

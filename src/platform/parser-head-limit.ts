/**
 * Bun's HTTP parser refuses a request head over its own limit (16 KiB unless
 * `--max-http-header-size`) with 431 before any handler runs, so a long URL could never get the
 * listener's 414. Bun processes the gateway starts (the relaunched server, proxy workers) get a
 * parser limit above the listener's own limits through BUN_OPTIONS; the listener checks then
 * answer 414/431 by `proxy.max_url_bytes` and `proxy.max_header_bytes`.
 */

/** The parser head limit (Bun's, and Node's on the TLS listener) for listener limits of `maxHeaderBytes` and `maxUrlBytes` (at least 128 KiB). */
export function parserHeadLimit(maxHeaderBytes = 0, maxUrlBytes = 0): number {
  return Math.max(128 * 1024, 2 * Math.max(maxHeaderBytes, maxUrlBytes));
}

/** `env` with `--max-http-header-size` in BUN_OPTIONS, unless the operator set one there already. */
export function withBunHeadLimit(env: NodeJS.ProcessEnv, bytes: number): NodeJS.ProcessEnv {
  const options = env['BUN_OPTIONS'] ?? '';
  if (/--max-http-header-size\b/.test(options)) return env;
  return { ...env, BUN_OPTIONS: `${options} --max-http-header-size=${bytes}`.trim() };
}

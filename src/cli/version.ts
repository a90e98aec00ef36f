import { readFileSync } from 'node:fs';

/**
 * The package version, read from package.json: two directories above this file in src/
 * (src/cli → package root) and three in dist/ (dist/src/cli).
 */
export function cliVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dgate' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      /* not this one */
    }
  }
  return 'unknown';
}

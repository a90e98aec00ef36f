/**
 * init_resources domains may name their PEM files with `cert_file` / `key_file` instead of
 * inline `cert` / `key` (DGate). The files are read here, relative to the config file's
 * directory, so the gateway only ever sees `cert` and `key`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ResourceItem } from './config.js';
import { configError } from './config-error.js';

/** Returns a domain list with every `cert_file`/`key_file` replaced by the file's text. */
export function inlineDomainFiles(domains: readonly ResourceItem[], baseDir: string): ResourceItem[] {
  return domains.map((item, i) => {
    if (item['cert_file'] === undefined && item['key_file'] === undefined) return item;
    const { cert_file: certFile, key_file: keyFile, ...rest } = item;
    const out: Record<string, unknown> = { ...rest };
    for (const [fileKey, field, file] of [['cert_file', 'cert', certFile], ['key_file', 'key', keyFile]] as const) {
      if (file === undefined) continue;
      const path = `proxy.init_resources.domains[${i}].${fileKey}`;
      if (rest[field] !== undefined) throw configError(path, `set ${field} or ${fileKey}, not both`);
      if (typeof file !== 'string' || file === '') throw configError(path, 'expected a file name');
      try {
        out[field] = readFileSync(resolve(baseDir, file), 'utf8');
      } catch (err) {
        throw configError(path, `cannot read ${file}: ${(err as Error).message}`);
      }
    }
    return out;
  });
}

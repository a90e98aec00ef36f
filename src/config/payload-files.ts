/**
 * init_resources modules may name their source with `payload_file` instead of an inline
 * `payload`. The file is read here (relative to the config file's directory) and its plain
 * text put into `payload`, so the gateway only ever sees `payload`. DGate base64-encoded such
 * files twice (a bug); this reads them once, as text.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ResourceItem } from './config.js';
import { configError } from './config-error.js';

/** Returns a module list with every `payload_file` replaced by `payload`. */
export function inlinePayloadFiles(modules: readonly ResourceItem[], baseDir: string): ResourceItem[] {
  return modules.map((item, i) => {
    if (!Object.hasOwn(item, 'payload_file')) return item;
    const path = `proxy.init_resources.modules[${i}].payload_file`;
    const label = typeof item['name'] === 'string' ? ` (module ${JSON.stringify(item['name'])})` : '';
    const file = item['payload_file'];
    if (typeof file !== 'string' || file === '') throw configError(path, `expected a file path${label}`);
    if (item['payload'] !== undefined && item['payload'] !== null) {
      throw configError(`proxy.init_resources.modules[${i}]`, `set payload or payload_file, not both${label}`);
    }
    const full = resolve(baseDir, file);
    let text: string;
    try {
      text = readFileSync(full, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'file not found' : (err as Error).message;
      throw configError(path, `cannot read ${full}${label}: ${why}`);
    }
    const { payload_file: _dropped, ...rest } = item;
    return { ...rest, payload: text };
  });
}

/**
 * init_resources modules may name their source with `payload_file` instead of an inline
 * `payload`. The file is read here (relative to the config file's directory) and its plain
 * text put into `payload`, so the gateway only ever sees `payload`. DGate base64-encoded such
 * files twice (a bug); this reads them once, as text.
 */
import { readFileSync } from 'node:fs';
import { PayloadFileError, takePayloadFile } from '../core/payload-file.js';
import type { ResourceItem } from './config.js';
import { configError } from './config-error.js';

/** Returns a module list with every `payload_file` replaced by `payload`. */
export function inlinePayloadFiles(modules: readonly ResourceItem[], baseDir: string): ResourceItem[] {
  return modules.map((item, i) => {
    try {
      const { rest, content } = takePayloadFile(item, baseDir, (path) => readFileSync(path));
      return content === null ? item : { ...rest, payload: content.toString('utf8') };
    } catch (err) {
      if (!(err instanceof PayloadFileError)) throw err;
      const label = typeof item['name'] === 'string' ? ` (module ${JSON.stringify(item['name'])})` : '';
      throw configError(`proxy.init_resources.modules[${i}]${err.field === null ? '' : `.${err.field}`}`, `${err.message}${label}`);
    }
  });
}

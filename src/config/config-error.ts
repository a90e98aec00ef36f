import { Errors, type GatewayError } from '../core/errors.js';

/** A config error about one key: `config: <path>: <problem>` (path in the file's spelling). */
export function configError(path: string, problem: string): GatewayError {
  return Errors.CONFIG(`${path}: ${problem}`);
}

import { resolve } from 'node:path';

/** Why a module item's `payload_file` cannot be used; `field` is the key at fault (null: the item). */
export class PayloadFileError extends Error {
  readonly field: 'payload_file' | null;
  constructor(field: 'payload_file' | null, message: string) {
    super(message);
    this.field = field;
  }
}

/**
 * A module item of init_resources or of a declarative file may name its source with
 * `payload_file` (relative to `baseDir`, the file's directory) instead of an inline `payload`.
 * Returns the item without `payload_file` and the file's bytes (null when the item names no
 * file); the caller decides how they become `payload`. `read` does the reading (core does no I/O).
 * Throws PayloadFileError for a key that is not a path, for both keys at once and for a file
 * that cannot be read.
 */
export function takePayloadFile(
  item: Readonly<Record<string, unknown>>,
  baseDir: string,
  read: (path: string) => Buffer,
): { rest: Record<string, unknown>; content: Buffer | null } {
  const { payload_file: file, ...rest } = item;
  if (!Object.hasOwn(item, 'payload_file')) return { rest, content: null };
  if (typeof file !== 'string' || file === '') throw new PayloadFileError('payload_file', 'expected a file path');
  if (rest['payload'] !== undefined && rest['payload'] !== null) throw new PayloadFileError(null, 'set payload or payload_file, not both');
  const full = resolve(baseDir, file);
  try {
    return { rest, content: read(full) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PayloadFileError('payload_file', `cannot read ${full}: ${code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
  }
}

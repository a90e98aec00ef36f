import type { AdminClient } from '../../client/admin-client.js';
import type { CliIo } from '../io.js';

/** What every command gets from main.ts. */
export interface CommandContext {
  io: CliIo;
  /** where relative file names are resolved */
  cwd: string;
  /** the admin client, built on first use (a missing password is asked for then) */
  client(): Promise<AdminClient>;
}

import type { CliIo } from './io.js';

/**
 * Asks for a password on the terminal without echoing it (stdin in raw mode), for
 * `--auth user`. Enter ends it, Backspace removes a character, Ctrl-C or Ctrl-D gives up.
 * Only called when stdin is a terminal.
 */
export function promptPassword(io: CliIo, username: string): Promise<string | null> {
  const stdin = io.stdin!;
  io.stderr.write(`Password for ${username}: `);
  return new Promise((resolve) => {
    let typed = '';
    const finish = (value: string | null) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return finish(typed);
        if (ch === '\u0003' || ch === '\u0004') return finish(null);
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

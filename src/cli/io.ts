/** Where dgate-cli reads and writes: the process streams, or buffers in tests. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  /** read for the password prompt, only when it is a terminal */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  env: Record<string, string | undefined>;
  /** whether stdout is a terminal: JSON is then indented for people, else compact for pipes */
  isTTY: boolean;
  /** the directory relative file names are read from (default: the process's) */
  cwd?: string;
  /**
   * Called by a command that runs until the user interrupts it (logs -f): the signal aborts on
   * Ctrl-C, and the command then ends with exit 0. Absent: it runs until the server ends it.
   */
  interrupts?: () => AbortSignal;
}

/** Prints a JSON value and a final newline: indented by 2 on a terminal, compact otherwise. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${io.isTTY ? JSON.stringify(value, null, 2) : JSON.stringify(value)}\n`);
}

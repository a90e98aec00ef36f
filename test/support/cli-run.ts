/** Runs dgate-cli in this process (runCli) with captured output, against a given admin URL. */
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON */
  json(): any;
}

export interface CliOptions {
  /** sets DGATE_ADMIN_API */
  admin?: string;
  env?: Record<string, string | undefined>;
  /** stdout is a terminal (JSON indented) */
  isTTY?: boolean;
  cwd?: string;
  /** text typed on a terminal stdin (the password prompt) */
  ttyInput?: string;
  /** aborting it is the user's Ctrl-C (a command that runs until interrupted: logs -f) */
  interrupt?: AbortSignal;
  /** called after every write to stdout, with all of stdout so far */
  onStdout?: (stdout: string) => void;
}

export async function cli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  let stdin: (PassThrough & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown }) | undefined;
  if (opts.ttyInput !== undefined) {
    stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin });
    // typed once the prompt is listening
    setImmediate(() => stdin!.write(opts.ttyInput));
  }
  const code = await runCli(args, {
    stdout: {
      write: (s: string) => {
        stdout += s;
        opts.onStdout?.(stdout);
        return true;
      },
    },
    stderr: { write: (s: string) => (stderr += s) },
    ...(stdin === undefined ? {} : { stdin }),
    env: { ...(opts.admin === undefined ? {} : { DGATE_ADMIN_API: opts.admin }), ...opts.env },
    isTTY: opts.isTTY ?? false,
    cwd: opts.cwd,
    ...(opts.interrupt === undefined ? {} : { interrupts: () => opts.interrupt! }),
  });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}

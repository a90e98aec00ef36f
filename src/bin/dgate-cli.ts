#!/usr/bin/env node
/**
 * dgate-cli: manages a DGate gateway through its admin API. See `dgate-cli --help`.
 */
import { runCli } from '../cli/main.js';

/** For a command that runs until interrupted (logs -f): Ctrl-C then ends it normally (a second one at once). */
function interrupts(): AbortSignal {
  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    interrupt.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return interrupt.signal;
}

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  isTTY: process.stdout.isTTY === true,
  interrupts,
});
// Let stdout drain before leaving (a large export piped to another program).
process.exitCode = code;

#!/usr/bin/env node
/**
 * dgate-cli: manages a DGate gateway through its admin API. See `dgate-cli --help`.
 */
import { runCli } from '../cli/main.js';

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  isTTY: process.stdout.isTTY === true,
});
// Let stdout drain before leaving (a large export piped to another program).
process.exitCode = code;

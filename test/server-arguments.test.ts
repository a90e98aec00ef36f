/**
 * dgate-server's command line, through the real binary: what it does not understand stops it
 * with exit code 2 and the usage text, instead of starting on the defaults.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { SERVER_BIN, tempDir } from './support/server-process.js';

interface Run {
  code: number | string | null;
  stdout: string;
  stderr: string;
}

/** Runs dgate-server with `args`; a server that starts instead of exiting is killed after 15 s. */
function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    // An empty environment for config: no DG_CONFIG_PATH, and a working directory without a config file.
    const env = { ...process.env, DG_CONFIG_PATH: '' };
    execFile(process.execPath, [SERVER_BIN, ...args], { cwd: tempDir('dgate-args-'), env, timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : ((err as { code?: number | string }).code ?? (err as { signal?: string }).signal ?? null);
      resolve({ code: (err as { killed?: boolean } | null)?.killed ? 'still running (killed)' : code, stdout, stderr });
    });
  });
}

describe('dgate-server command line', () => {
  for (const [args, why] of [
    [['--bogus'], /unknown flag --bogus/],
    [['--confg', 'x.yaml'], /unknown flag --confg/],
    [['--config'], /--config needs a file path/],
    [['-c'], /-c needs a file path/],
    [['--config='], /--config needs a file path/],
    [['--config', '--help'], /--config needs a file path/],
    [['serve'], /unexpected argument "serve"/],
    [['--runtime', 'deno'], /--runtime: expected one of auto, node, bun, got "deno"/],
    [['--runtime'], /--runtime: expected one of auto, node, bun, got ""/],
  ] as const) {
    it(`exits 2 with the usage on stderr for: ${args.join(' ')}`, async () => {
      const r = await run([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.match(r.stderr, /Usage: dgate-server \[--config FILE\]/);
      assert.equal(r.stdout, '');
    });
  }

  it('--help prints the usage on stdout and exits 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: dgate-server/);
    assert.match(r.stdout, /--config FILE/);
  });

  it('--version prints the version and exits 0', async () => {
    const r = await run(['-v']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^dgate-server \d+\.\d+\.\d+/);
  });

  it('a missing config file named by --config=FILE exits 1 naming it', async () => {
    const r = await run(['--config=missing.yaml']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /config file not found: .*missing\.yaml/);
  });
});

/**
 * Runs the compiled test files on Bun, one `bun test` process per file (as `node --test` does),
 * two at a time: no process-wide state is shared between files. Prints each file's result,
 * the output of failing files, and the totals; exits 1 when anything failed.
 *
 *   node dist/test/support/bun-runner.js [--concurrency N] FILE...
 */
import { spawn } from 'node:child_process';
import { installedBun } from '../../src/platform/choose.js';

interface FileResult {
  file: string;
  code: number | null;
  pass: number;
  fail: number;
  skip: number;
  output: string;
}

function count(output: string, word: string): number {
  const m = new RegExp(`^\\s*(\\d+) ${word}$`, 'm').exec(output);
  return m === null ? 0 : Number(m[1]);
}

function runFile(bun: string, file: string): Promise<FileResult> {
  return new Promise((resolve) => {
    const child = spawn(bun, ['test', '--timeout', '120000', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ file, code, pass: count(output, 'pass'), fail: count(output, 'fail'), skip: count(output, 'skip'), output }));
  });
}

async function main(argv: string[]): Promise<number> {
  let concurrency = 2;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--concurrency') concurrency = Math.max(1, Number(argv[++i]) || 1);
    else files.push(argv[i]);
  }
  const bun = installedBun();
  if (bun === null) {
    process.stderr.write('bun-runner: the bun package is not installed (npm ci installs it)\n');
    return 1;
  }
  const started = Date.now();
  const results: FileResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const r = await runFile(bun, files[next++]);
      results.push(r);
      const failed = r.code !== 0 || r.fail > 0;
      process.stdout.write(`${failed ? 'FAIL' : 'ok  '} ${r.file}  (${r.pass} pass, ${r.fail} fail, ${r.skip} skip)\n`);
      if (failed) process.stdout.write(r.output.replace(/^/gm, '    ') + '\n');
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  const sum = (k: 'pass' | 'fail' | 'skip') => results.reduce((n, r) => n + r[k], 0);
  const badFiles = results.filter((r) => r.code !== 0 || r.fail > 0).length;
  process.stdout.write(`\n# bun: files ${results.length}, pass ${sum('pass')}, fail ${sum('fail')}, skipped ${sum('skip')}, failed files ${badFiles}, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return badFiles === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code));

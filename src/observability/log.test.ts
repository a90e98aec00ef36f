import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createLogger } from './log.js';

/** A destination that keeps every line written to it. */
function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('lines are JSON with node_id, a level name and an ISO time', () => {
  const out = capture();
  const log = createLogger({ level: 'info', nodeId: 'node-1', destination: out.stream });
  log.info({ route: 'r1' }, 'hello');
  log.child({ component: 'proxy' }).warn('careful');
  const [first, second] = out.lines();
  assert.equal(first?.['level'], 'info');
  assert.equal(first?.['node_id'], 'node-1');
  assert.equal(first?.['route'], 'r1');
  assert.equal(first?.['msg'], 'hello');
  assert.ok(!Number.isNaN(Date.parse(String(first?.['time']))));
  assert.deepEqual([second?.['level'], second?.['component'], second?.['node_id']], ['warn', 'proxy', 'node-1']);
});

test('the level filters lower levels out', () => {
  const out = capture();
  const log = createLogger({ level: 'warn', nodeId: 'n', destination: out.stream });
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  assert.deepEqual(out.lines().map((l) => l['msg']), ['w', 'e']);
});

test('by default lines go to stdout, written synchronously', () => {
  const logModule = new URL('./log.js', import.meta.url).href;
  // The child logs and exits at once: a synchronous destination has flushed by then.
  const script = `import { createLogger } from ${JSON.stringify(logModule)};
    const log = createLogger({ level: 'debug', nodeId: 'child' });
    log.debug('one'); log.info({ n: 2 }, 'two'); process.exit(0);`;
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    encoding: 'utf8',
  });
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => [l['level'], l['msg'], l['node_id']]), [
    ['debug', 'one', 'child'],
    ['info', 'two', 'child'],
  ]);
});

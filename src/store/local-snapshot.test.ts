import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LOCAL_SNAPSHOT_FILE, readLocalSnapshot, writeLocalSnapshot, writeLocalSnapshotInBackground } from './local-snapshot.js';
import type { Snapshot } from './store.js';

function snapshot(rev: number, n = 3): Snapshot {
  return {
    rev,
    items: Array.from({ length: n }, (_, i) => ({
      kind: 'namespace' as const,
      namespace: `ns${i}`,
      name: `ns${i}`,
      item: { name: `ns${i}`, tags: [`rev-${rev}`] },
    })),
  };
}

/** Runs `fn` and returns the DGATE_LOCAL_SNAPSHOT warnings it emitted. */
async function warningsOf<T>(fn: () => T): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const on = (w: Error & { code?: string }) => {
    if (w.code === 'DGATE_LOCAL_SNAPSHOT') warnings.push(w.message);
  };
  process.on('warning', on);
  try {
    const result = fn();
    // warnings are emitted on the next tick
    await new Promise((r) => setImmediate(r));
    return { result, warnings };
  } finally {
    process.off('warning', on);
  }
}

describe('local snapshot', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dgate-lkg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips a snapshot; no file reads as null without a warning', async () => {
    const empty = await warningsOf(() => readLocalSnapshot(dir));
    assert.equal(empty.result, null);
    assert.deepEqual(empty.warnings, []);
    writeLocalSnapshot(join(dir, 'nested'), snapshot(7));
    assert.deepEqual(readLocalSnapshot(join(dir, 'nested')), snapshot(7));
  });

  it('the background writer writes the same file, byte for byte, for empty and large states', async () => {
    for (const n of [0, 1, 500, 1201]) {
      writeLocalSnapshot(dir, snapshot(n, n));
      const sync = readFileSync(join(dir, LOCAL_SNAPSHOT_FILE));
      await writeLocalSnapshotInBackground(join(dir, 'bg'), snapshot(n, n));
      assert.ok(sync.equals(readFileSync(join(dir, 'bg', LOCAL_SNAPSHOT_FILE))), `${n} items`);
      assert.deepEqual(readLocalSnapshot(join(dir, 'bg')), snapshot(n, n));
      assert.deepEqual(readdirSync(join(dir, 'bg')), [LOCAL_SNAPSHOT_FILE]);
    }
  });

  it('a newer write replaces the older one and leaves no temporary file', () => {
    writeLocalSnapshot(dir, snapshot(1));
    writeLocalSnapshot(dir, snapshot(2, 5));
    assert.deepEqual(readLocalSnapshot(dir), snapshot(2, 5));
    assert.deepEqual(readdirSync(dir), [LOCAL_SNAPSHOT_FILE]);
  });

  it('a truncated file is ignored with a warning', async () => {
    writeLocalSnapshot(dir, snapshot(3, 50));
    const file = join(dir, LOCAL_SNAPSHOT_FILE);
    truncateSync(file, readFileSync(file).length - 10);
    const { result, warnings } = await warningsOf(() => readLocalSnapshot(dir));
    assert.equal(result, null);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /truncated/);
    truncateSync(file, 20);
    assert.equal((await warningsOf(() => readLocalSnapshot(dir))).result, null);
  });

  it('a corrupted byte fails the checksum and the file is ignored', async () => {
    writeLocalSnapshot(dir, snapshot(4));
    const file = join(dir, LOCAL_SNAPSHOT_FILE);
    const buf = readFileSync(file);
    const at = buf.indexOf('rev-4');
    buf[at + 4] = '5'.charCodeAt(0); // still valid JSON, different content
    writeFileSync(file, buf);
    const { result, warnings } = await warningsOf(() => readLocalSnapshot(dir));
    assert.equal(result, null);
    assert.match(warnings[0] ?? '', /sha256/);
  });

  it('garbage and a missing header are ignored with a warning', async () => {
    const file = join(dir, LOCAL_SNAPSHOT_FILE);
    writeFileSync(file, '{"rev": 1, "items": []}');
    assert.equal((await warningsOf(() => readLocalSnapshot(dir))).result, null);
    writeFileSync(file, 'not json\n{}');
    const { result, warnings } = await warningsOf(() => readLocalSnapshot(dir));
    assert.equal(result, null);
    assert.equal(warnings.length, 1);
  });

  it('a writer killed while writing leaves the previous snapshot readable', async () => {
    writeLocalSnapshot(dir, snapshot(1));
    const fixture = fileURLToPath(new URL('./local-snapshot-writer.fixture.js', import.meta.url));
    // the child writes big snapshots in a loop; it is killed at an arbitrary moment
    const child = spawn(process.execPath, [fixture, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const snap = readLocalSnapshot(dir);
    assert.ok(snap !== null, 'a complete snapshot is always there');
    assert.ok(snap.rev >= 1);
    assert.equal(snap.items.length, snap.rev === 1 ? 3 : 2000);
  });
});

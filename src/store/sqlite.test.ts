import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../platform/sqlite.js';
import type { Change, ChangeBatch } from '../core/change.js';
import { itemKey } from '../core/change.js';
import { GatewayError } from '../core/errors.js';
import { SqliteStore } from './sqlite.js';
import type { StoredItem } from './store.js';
import { runStoreContract } from './store.contract.js';

const WRITER = fileURLToPath(new URL('./sqlite-writer.fixture.js', import.meta.url));

function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'dgate-sqlite-'));
}

runStoreContract('sqlite', async (opts = {}) => {
  const dir = await tempDir();
  let current = new SqliteStore({ dir, ...opts });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = new SqliteStore({ dir, ...opts });
      return current;
    },
    cleanup: async () => {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const ns = (name: string): Change => ({ op: 'put', kind: 'namespace', namespace: name, name, item: { name } });

describe('SqliteStore', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('creates its directory recursively and keeps dgate.db in WAL mode', async () => {
    const nested = join(dir, 'a', 'b', 'c');
    const store = new SqliteStore({ dir: nested });
    assert.equal(store.type, 'file');
    await store.commit([ns('a')]);
    assert.ok(existsSync(join(nested, 'dgate.db')));
    const raw = openDatabase(join(nested, 'dgate.db'));
    try {
      assert.equal(raw.pragma('journal_mode'), 'wal');
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('refuses calls after close with DG_ERR_STORE', async () => {
    const store = new SqliteStore({ dir: join(dir, 'closed') });
    await store.close();
    await assert.rejects(store.commit([ns('a')]), { code: 'DG_ERR_STORE' });
    await assert.rejects(store.load(), { code: 'DG_ERR_STORE' });
    assert.throws(() => store.watch(0, () => {}, () => {}), { code: 'DG_ERR_STORE' });
  });

  it('rolls back the whole batch when one change fails to store', async () => {
    const store = new SqliteStore({ dir: join(dir, 'rollback') });
    try {
      await store.commit([ns('kept')]);
      // an item the database refuses (NOT NULL), after a valid put in the same batch
      const bad = { op: 'put', kind: 'namespace', namespace: 'bad', name: 'bad', item: undefined } as unknown as Change;
      const err = await store.commit([ns('half'), bad]).catch((e: unknown) => e);
      assert.ok(err instanceof GatewayError);
      assert.equal(err.code, 'DG_ERR_STORE');
      const snap = await store.load();
      assert.equal(snap.rev, 1);
      assert.deepEqual(snap.items.map((i) => i.name), ['kept']);
      assert.equal(await store.commit([ns('next')]), 2);
    } finally {
      await store.close();
    }
  });

  it('refuses a database written by a newer schema version', async () => {
    const d = join(dir, 'newer');
    await new SqliteStore({ dir: d }).close();
    const raw = openDatabase(join(d, 'dgate.db'));
    raw.pragma('user_version = 99');
    raw.close();
    assert.throws(() => new SqliteStore({ dir: d }), { code: 'DG_ERR_STORE', message: /schema version 99/ });
  });

  it('refuses an invalid historyLimit', () => {
    assert.throws(() => new SqliteStore({ dir: join(dir, 'limit'), historyLimit: -1 }), { code: 'DG_ERR_STORE' });
  });

  it('keeps watchers in order when a watcher commits from inside its callback', async () => {
    const store = new SqliteStore({ dir: join(dir, 'reentrant') });
    try {
      const first: number[] = [];
      const second: number[] = [];
      const stops = [
        store.watch(1, (b) => {
          first.push(b.rev);
          if (b.rev === 1) void store.commit([ns('from-watcher')]);
        }, () => {}),
        store.watch(1, (b) => second.push(b.rev), () => {}),
      ];
      await store.commit([ns('a')]);
      // a watcher added while deliveries are queued gets each batch once
      const late: number[] = [];
      stops.push(store.watch(1, (b) => late.push(b.rev), () => {}));
      await store.commit([ns('b')]);
      assert.deepEqual(first, [1, 2, 3]);
      assert.deepEqual(second, [1, 2, 3]);
      assert.deepEqual(late, [1, 2, 3]);
      for (const stop of stops) stop();
    } finally {
      await store.close();
    }
  });
});

/**
 * Kill -9 in the middle of a write burst, three times over the same directory: every revision
 * the writer saw acknowledged must be on disk, and the database must be whole (items are exactly
 * what the batches in history produce).
 */
describe('SqliteStore durability across SIGKILL', () => {
  const HISTORY_LIMIT = 1_000_000; // as in the fixture: history keeps every batch
  const MIN_ACKS = 200;
  let dir: string;
  let lastRev = 0;
  before(async () => {
    dir = await tempDir();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const round of [1, 2, 3]) {
    it(`round ${round}: acknowledged revisions survive and the state is not torn`, async () => {
      const acked = await runWriterAndKill(dir, MIN_ACKS);
      assert.ok(acked.length >= MIN_ACKS, `writer acknowledged only ${acked.length} commits`);
      assert.deepEqual(acked, Array.from({ length: acked.length }, (_, i) => lastRev + 1 + i), 'acks are consecutive revisions');
      const lastAcked = acked[acked.length - 1]!;

      const store = new SqliteStore({ dir, historyLimit: HISTORY_LIMIT });
      try {
        const snap = await store.load();
        assert.ok(snap.rev >= lastAcked, `store at ${snap.rev}, writer acknowledged ${lastAcked}`);

        // every revision up to the current one left its document, and `latest` is the last one
        const byKey = new Map(snap.items.map((i) => [itemKey(i.kind, i.namespace, i.name), i]));
        for (let r = 1; r <= snap.rev; r++) {
          const d = byKey.get(itemKey('document', 'default', `writes/${r}`));
          assert.deepEqual((d?.item as { data?: unknown } | undefined)?.data, { rev: r }, `document of revision ${r}`);
        }
        assert.equal((byKey.get(itemKey('secret', 'default', 'latest'))?.item as { data?: string } | undefined)?.data, String(snap.rev));
        assert.equal(snap.items.length, snap.rev + 1);

        // no torn state: history is 1..rev without gaps, and replaying it gives exactly the items
        const history = await store.history(0, Number.MAX_SAFE_INTEGER);
        assert.equal(history.length, snap.rev);
        assert.ok(history.every((b, i) => b.rev === i + 1), 'history is gapless from revision 1');
        assert.deepEqual(sortItems(replay(history)), sortItems(snap.items));
        lastRev = snap.rev;
      } finally {
        await store.close();
      }

      const raw = openDatabase(join(dir, 'dgate.db'));
      try {
        assert.equal(raw.pragma('integrity_check'), 'ok');
      } finally {
        raw.close();
      }
    });
  }
});

/** Starts the writer fixture, SIGKILLs it once it has acknowledged `minAcks` commits, returns every revision it printed. */
function runWriterAndKill(dir: string, minAcks: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: number[] = [];
    let partial = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer acknowledged ${acked.length} commits before the timeout`));
    }, 60_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      // a line cut short by the kill was never fully acknowledged
      partial = lines.pop() ?? '';
      for (const line of lines) acked.push(Number(line));
      if (!killed && acked.length >= minAcks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    // 'close' comes after stdout is drained, so acks printed just before the kill are counted
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killed) resolve(acked);
      else reject(new Error(`writer ended on its own (code ${code}, signal ${signal})`));
    });
  });
}

function replay(batches: ChangeBatch[]): StoredItem[] {
  const items = new Map<string, StoredItem>();
  for (const b of batches) {
    for (const c of b.changes) {
      const key = itemKey(c.kind, c.namespace, c.name);
      if (c.op === 'put') items.set(key, { kind: c.kind, namespace: c.namespace, name: c.name, item: c.item });
      else items.delete(key);
    }
  }
  return [...items.values()];
}

function sortItems(items: StoredItem[]): StoredItem[] {
  const key = (i: StoredItem) => itemKey(i.kind, i.namespace, i.name);
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

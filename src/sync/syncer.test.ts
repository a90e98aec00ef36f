/**
 * The node's follow path: the syncer applies every commit of the store — this process's, another
 * store instance's, another process's — and the writer retries a write that lost a race instead
 * of answering 409.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Change } from '../core/change.js';
import { GatewayError } from '../core/errors.js';
import { channels, type SyncStepEvent } from '../observability/channels.js';
import { MemoryStore } from '../store/memory.js';
import { SqliteStore } from '../store/sqlite.js';
import { Syncer } from './syncer.js';
import { ChangeWriter } from './writer.js';

const WRITER = fileURLToPath(new URL('../store/sqlite-writer.fixture.js', import.meta.url));
const ns = (name: string): Change => ({ op: 'put', kind: 'namespace', namespace: name, name, item: { name } });

async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Syncer over SQLite', () => {
  let dir: string;
  const closers: Array<() => Promise<void>> = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dgate-syncer-'));
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    await rm(dir, { recursive: true, force: true });
  });

  async function node(pollMs = 20): Promise<{ store: SqliteStore; syncer: Syncer; writer: ChangeWriter }> {
    const store = new SqliteStore({ dir, pollMs });
    const syncer = new Syncer(store);
    await syncer.start();
    closers.push(async () => {
      await syncer.close();
      await store.close();
    });
    return { store, syncer, writer: new ChangeWriter(store, syncer) };
  }

  it('applies commits made by another process on the same file, without a restart', async () => {
    const { syncer } = await node();
    await syncer.waitFor(syncer.rev, 1000);
    const start = syncer.rev;
    const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let printed = 0;
    child.stdout!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line !== '') printed = Math.max(printed, Number(line));
    });
    try {
      await eventually('50 revisions from the other process', () => syncer.rev >= start + 50);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // Everything the child committed arrives, in order, with the items it wrote.
    await eventually('the last printed revision', () => syncer.rev >= printed);
    const rev = syncer.rev;
    assert.equal(syncer.state.get('secret', 'default', 'latest')?.data, String(rev));
    assert.deepEqual(syncer.state.get('document', 'default', `writes/${rev}`)?.data, { rev });
    assert.equal(syncer.state.count('document', 'default'), rev - start);
    assert.equal(syncer.status().healthy, true);
  });

  it('reloads the whole state when the batches it missed were compacted away, then retries the write', async () => {
    const sub = join(dir, 'compacted');
    // This node polls rarely; the other instance commits more than history holds meanwhile.
    const store = new SqliteStore({ dir: sub, historyLimit: 1, pollMs: 60_000 });
    const syncer = new Syncer(store);
    await syncer.start();
    const kinds: string[] = [];
    syncer.setPublisher(async (p) => void kinds.push(p.changes === null ? 'snapshot' : 'batch'));
    const writer = new ChangeWriter(store, syncer);
    const other = new SqliteStore({ dir: sub, historyLimit: 1 });
    closers.push(async () => {
      await syncer.close();
      await store.close();
      await other.close();
    });
    for (const name of ['b', 'c', 'd']) await other.commit([ns(name)]);
    const after = await writer.write(() => [ns('e')]);
    assert.equal(after.rev, 4);
    for (const name of ['b', 'c', 'd', 'e']) assert.ok(syncer.state.has('namespace', name, name), name);
    assert.ok(kinds.includes('snapshot'), `a reload was published (got ${kinds.join(',')})`);
  });

  it('retries a write that lost a race with another store instance, so neither writer sees a 409', async () => {
    const one = await node();
    const two = await node();
    await two.syncer.waitApplied(one.syncer.rev, 5000);
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const w = i % 2 === 0 ? one.writer : two.writer;
      writes.push(w.write(() => [ns(`race-${i}`)]));
    }
    const results = await Promise.allSettled(writes);
    assert.deepEqual(
      results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      [],
    );
    await two.syncer.waitApplied(one.syncer.rev, 5000);
    await one.syncer.waitApplied(two.syncer.rev, 5000);
    for (const n of [one, two]) for (let i = 0; i < 20; i++) assert.ok(n.syncer.state.has('namespace', `race-${i}`, `race-${i}`), `race-${i}`);
  });
});

describe('Syncer and writer', () => {
  it('answers a write with the state at its revision, once it is published', async () => {
    const store = new MemoryStore();
    const syncer = new Syncer(store);
    await syncer.start();
    const published: Array<{ from: number; rev: number; changes: number | null }> = [];
    let release: () => void = () => {};
    syncer.setPublisher((p) => {
      published.push({ from: p.from, rev: p.state.rev, changes: p.changes?.length ?? null });
      return new Promise<void>((r) => (release = r));
    });
    const writer = new ChangeWriter(store, syncer);
    let answered = false;
    const write = writer.write(() => [ns('a')]).then((s) => ((answered = true), s));
    await syncer.waitApplied(1, 1000);
    await new Promise((r) => setImmediate(r));
    assert.equal(answered, false, 'not answered before the data plane serves it');
    assert.deepEqual(published, [{ from: 0, rev: 1, changes: 1 }]);
    release();
    const state = await write;
    assert.equal(state.rev, 1);
    assert.ok(state.has('namespace', 'a', 'a'));
    await syncer.close();
  });

  it('fails a write with a 504 naming its committed revision when it is not served in time', async () => {
    const store = new MemoryStore();
    const syncer = new Syncer(store);
    await syncer.start();
    syncer.setPublisher(() => new Promise<void>(() => {}));
    const writer = new ChangeWriter(store, syncer, () => {}, { propagationTimeoutMs: 50 });
    await assert.rejects(writer.write(() => [ns('a')]), (err: GatewayError) => {
      assert.equal(err.code, 'DG_ERR_PROPAGATION_TIMEOUT');
      assert.equal(err.status, 504);
      assert.match(err.message, /committed at revision 1/);
      return true;
    });
    assert.ok(syncer.state.has('namespace', 'a', 'a'), 'the write is committed and applied');
    await syncer.close();
  });

  it('reports the steps of a write and of a revision on the dgate:sync:step channel, in order, while subscribed', async () => {
    const store = new MemoryStore();
    const syncer = new Syncer(store);
    await syncer.start();
    let release: () => void = () => {};
    syncer.setPublisher(() => new Promise<void>((r) => (release = r)));
    const writer = new ChangeWriter(store, syncer);
    const steps: string[] = [];
    const listener = (e: SyncStepEvent) => steps.push(`${e.step} ${e.rev}`);
    channels.syncStep.subscribe(listener);
    const write = writer.write(() => [ns('a')]);
    try {
      await syncer.waitApplied(1, 1000);
      await new Promise((r) => setImmediate(r));
      // applied, not yet served by the data plane: no live step yet. The store's watch may bring
      // the batch before its commit call returns, so `committed` is only known to follow `commit-sent`.
      assert.deepEqual(steps.slice(0, 2), ['write 1', 'commit-sent 1']);
      assert.deepEqual([...steps.slice(2)].sort(), ['applied 1', 'committed 1', 'received 1']);
      assert.ok(steps.indexOf('received 1') < steps.indexOf('applied 1'), steps.join(', '));
    } finally {
      release();
      await write;
      channels.syncStep.unsubscribe(listener);
    }
    assert.deepEqual(steps.slice(5), ['live 1']);
    // nothing is published once nobody listens
    const second = writer.write(() => [ns('b')]);
    assert.equal(await syncer.waitApplied(2, 1000), true);
    release();
    assert.equal((await second).rev, 2);
    assert.equal(steps.length, 6);
    await syncer.close();
  });
});

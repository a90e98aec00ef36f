/**
 * A node's last-known-good copy of the shared state, kept under `storage.dir` so that a node
 * (re)started while etcd is down can still boot and serve.
 *
 * File `<dir>/last-known-good.json`: one line of header JSON `{"format":1,"sha256":"<hex>",
 * "bytes":N}`, a newline, then the snapshot JSON (`{rev, items}`) of exactly N bytes whose sha256
 * is the header's. Written atomically: a temporary file in the same directory, fsync, rename over
 * the old file, fsync of the directory. A reader never sees a half-written file; a file damaged
 * afterwards (truncated, edited, bit rot) fails the checksum and is ignored with a warning.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Snapshot } from './store.js';

export const LOCAL_SNAPSHOT_FILE = 'last-known-good.json';
const FORMAT = 1;

interface Header {
  format: number;
  sha256: string;
  bytes: number;
}

/** Replaces the node's local snapshot with `snapshot`, atomically and durably. */
export function writeLocalSnapshot(dir: string, snapshot: Snapshot): void {
  mkdirSync(dir, { recursive: true });
  const body = Buffer.from(JSON.stringify({ rev: snapshot.rev, items: snapshot.items }));
  const header: Header = { format: FORMAT, sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length };
  const file = join(dir, LOCAL_SNAPSHOT_FILE);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeAll(fd, Buffer.from(`${JSON.stringify(header)}\n`));
    writeAll(fd, body);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  // the rename itself must survive a power loss
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** Items serialized between two turns of the event loop by writeLocalSnapshotInBackground. */
const ITEMS_PER_TURN = 500;

/**
 * The same file as writeLocalSnapshot, written without holding the event loop: the state is
 * serialized a slice of items per turn, and the writes, fsyncs and rename run on libuv's
 * thread pool (a synchronous fsync takes 5-25 ms on a busy disk, time the node could not serve
 * or follow etcd). Writes of one directory must not overlap (the keeper runs one at a time).
 */
export async function writeLocalSnapshotInBackground(dir: string, snapshot: Snapshot): Promise<void> {
  const pieces: Buffer[] = [Buffer.from(`{"rev":${JSON.stringify(snapshot.rev)},"items":[`)];
  for (let i = 0; i < snapshot.items.length; i += ITEMS_PER_TURN) {
    if (i > 0) await nextTurn();
    const slice = JSON.stringify(snapshot.items.slice(i, i + ITEMS_PER_TURN));
    pieces.push(Buffer.from(`${i > 0 ? ',' : ''}${slice.slice(1, -1)}`));
  }
  pieces.push(Buffer.from(']}'));
  // the pieces are hashed and written as they are: no copy of the whole body
  const hash = createHash('sha256');
  let bytes = 0;
  for (const piece of pieces) {
    hash.update(piece);
    bytes += piece.length;
  }
  const header: Header = { format: FORMAT, sha256: hash.digest('hex'), bytes };
  await mkdir(dir, { recursive: true });
  const file = join(dir, LOCAL_SNAPSHOT_FILE);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    pieces.unshift(Buffer.from(`${JSON.stringify(header)}\n`));
    // writev may write less than asked (a full disk fails instead): write the rest
    for (let written = (await handle.writev(pieces)).bytesWritten, total = bytes + pieces[0]!.length; written < total; ) {
      const rest = Buffer.concat(pieces).subarray(written);
      written += (await handle.write(rest)).bytesWritten;
    }
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/**
 * The node's local snapshot, or null when there is none or it cannot be trusted (unreadable,
 * truncated, checksum mismatch, unknown format): then a warning says why.
 */
export function readLocalSnapshot(dir: string): Snapshot | null {
  const file = join(dir, LOCAL_SNAPSHOT_FILE);
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return ignored(file, `cannot be read (${(err as Error).message})`);
  }
  const nl = raw.indexOf(0x0a);
  if (nl < 0) return ignored(file, 'has no header line (truncated?)');
  let header: Header;
  try {
    header = JSON.parse(raw.subarray(0, nl).toString()) as Header;
  } catch {
    return ignored(file, 'has an unreadable header');
  }
  if (header?.format !== FORMAT || typeof header.sha256 !== 'string' || !Number.isSafeInteger(header.bytes)) {
    return ignored(file, `has an unknown format (${JSON.stringify(header?.format)})`);
  }
  const body = raw.subarray(nl + 1);
  if (body.length !== header.bytes) return ignored(file, `holds ${body.length} bytes of state, expected ${header.bytes} (truncated?)`);
  if (createHash('sha256').update(body).digest('hex') !== header.sha256) return ignored(file, 'fails its sha256 checksum');
  try {
    const snap = JSON.parse(body.toString()) as Snapshot;
    if (!Number.isSafeInteger(snap.rev) || snap.rev < 0 || !Array.isArray(snap.items)) return ignored(file, 'does not hold a snapshot');
    return { rev: snap.rev, items: snap.items };
  } catch {
    return ignored(file, 'holds invalid JSON');
  }
}

function writeAll(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
}

function ignored(file: string, why: string): null {
  process.emitWarning(`local snapshot ${file} ${why}: ignored`, { code: 'DGATE_LOCAL_SNAPSHOT' });
  return null;
}

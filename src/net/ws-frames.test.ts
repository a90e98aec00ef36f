import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeFrame, closePayload, encodeFrame, FrameError, FrameReader, FrameTracker, OP_BINARY, OP_CONTINUATION, OP_PING, OP_TEXT, parseClose } from './ws-frames.js';

/** feeds `bytes` to the reader in pieces of `size` bytes */
function feed(reader: FrameReader, bytes: Buffer, size: number) {
  const out = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...reader.push(bytes.subarray(i, i + size)));
  return out;
}

test('frames of every length class read back, masked or not, whole or byte by byte', () => {
  for (const len of [0, 5, 125, 126, 65535, 65536, 200_000]) {
    const payload = Buffer.alloc(len);
    for (let i = 0; i < len; i++) payload[i] = (i * 7) & 0xff;
    for (const mask of [false, true]) {
      const frame = encodeFrame(OP_BINARY, payload, mask);
      for (const size of [frame.length, 1, 4096]) {
        if (size === 1 && len > 70_000) continue;
        const events = feed(new FrameReader(1 << 20), frame, size);
        assert.equal(events.length, 1);
        const e = events[0]!;
        assert.equal(e.kind, 'message');
        assert.ok(e.kind === 'message' && e.binary && e.data.equals(payload), `len ${len} mask ${mask} size ${size}`);
      }
    }
  }
});

test('fragments join into one message; control frames between them come out on their own', () => {
  const bytes = Buffer.concat([
    encodeFrame(OP_TEXT, Buffer.from('hel'), true, false),
    encodeFrame(OP_PING, Buffer.from('p'), true),
    encodeFrame(OP_CONTINUATION, Buffer.from('lo'), true, true),
    closeFrame(4001, 'bye', true),
  ]);
  const events = new FrameReader(1024).push(bytes);
  assert.deepEqual(
    events.map((e) => (e.kind === 'message' ? { kind: e.kind, binary: e.binary, text: e.data.toString() } : e.kind === 'close' ? e : { kind: e.kind, text: e.data.toString() })),
    [
      { kind: 'ping', text: 'p' },
      { kind: 'message', binary: false, text: 'hello' },
      { kind: 'close', code: 4001, reason: 'bye' },
    ],
  );
});

test('a message over the limit and a protocol violation are refused with their close codes', () => {
  assert.throws(() => new FrameReader(10).push(encodeFrame(OP_BINARY, Buffer.alloc(11), false)), (e: unknown) => e instanceof FrameError && e.code === 1009);
  assert.throws(() => new FrameReader(10).push(encodeFrame(OP_CONTINUATION, Buffer.alloc(1), false)), (e: unknown) => e instanceof FrameError && e.code === 1002);
});

test('close payloads: code and reason, none for 1005/1006, reasons cut to 123 bytes', () => {
  assert.deepEqual(parseClose(closePayload(1001, 'going')), { code: 1001, reason: 'going' });
  assert.equal(closePayload(1005).length, 0);
  assert.equal(closePayload(1006, 'x').length, 0);
  assert.equal(closePayload(4000, 'r'.repeat(300)).length, 125);
  assert.deepEqual(parseClose(Buffer.alloc(0)), { code: 1005, reason: '' });
});

test('the tracker finds frame boundaries in a relayed stream and notices close frames', () => {
  const a = encodeFrame(OP_TEXT, Buffer.alloc(300, 1), true);
  const b = encodeFrame(OP_BINARY, Buffer.alloc(70_000, 2), false);
  const c = closeFrame(1000, '', true);
  const stream = Buffer.concat([a, b, c]);
  const t = new FrameTracker();
  assert.ok(t.atBoundary);
  // stopping at boundaries walks frame by frame (at a boundary it stops at once)
  assert.equal(t.advance(stream, 0, true), 0);
  t.advance(stream.subarray(0, 1));
  let at = t.advance(stream, 1, true);
  assert.equal(at, a.length);
  assert.equal(t.advance(stream, at, true), at);
  t.advance(stream.subarray(at, at + 1));
  at = t.advance(stream, at + 1, true);
  assert.equal(at, a.length + b.length);
  assert.equal(t.sawClose, false);
  t.advance(stream, at);
  assert.ok(t.sawClose);
  assert.ok(t.atBoundary);

  // byte by byte: a boundary is seen exactly at the end of each frame
  const u = new FrameTracker();
  const ends: number[] = [];
  for (let i = 0; i < stream.length; i++) {
    u.advance(stream.subarray(i, i + 1));
    if (u.atBoundary) ends.push(i + 1);
  }
  assert.deepEqual(ends, [a.length, a.length + b.length, stream.length]);
});

/**
 * WebSocket frames (RFC 6455 §5): what the gateway needs to take part in a tunnel it relays —
 * frames it sends itself (close, pong, the messages of a bridged peer), a reader that turns a
 * byte stream into whole messages and control frames, and a tracker that follows frame
 * boundaries in a stream relayed byte for byte (so a close frame can be put between frames).
 */
import { randomBytes } from 'node:crypto';

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** Close codes (RFC 6455 §7.4.1). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_PROTOCOL_ERROR = 1002;
/** "no status code": never sent in a frame */
export const CLOSE_NO_STATUS = 1005;
/** "closed without a close frame": never sent in a frame */
export const CLOSE_ABNORMAL = 1006;
export const CLOSE_TOO_BIG = 1009;
/** "internal error": what a client is told when the upstream's connection is lost without a close frame */
export const CLOSE_UPSTREAM_LOST = 1011;

/** One frame; `mask` is required from a client (RFC 6455 §5.3), forbidden from a server. */
export function encodeFrame(opcode: number, payload: Buffer, mask: boolean, fin = true): Buffer {
  const len = payload.length;
  const lenBytes = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const head = Buffer.allocUnsafe(2 + lenBytes + (mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = (mask ? 0x80 : 0) | (lenBytes === 0 ? len : lenBytes === 2 ? 126 : 127);
  if (lenBytes === 2) head.writeUInt16BE(len, 2);
  else if (lenBytes === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  key.copy(head, 2 + lenBytes);
  const body = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([head, body]);
}

/** A close frame's payload: the code (none for 1005/1006/absent) and a reason cut to fit 123 bytes. */
export function closePayload(code: number | undefined, reason = ''): Buffer {
  if (code === undefined || code === CLOSE_NO_STATUS || code === CLOSE_ABNORMAL || !sendableCloseCode(code)) return Buffer.alloc(0);
  let r = Buffer.from(reason, 'utf8');
  if (r.length > 123) r = r.subarray(0, 123);
  const out = Buffer.allocUnsafe(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

/** Codes a close frame may carry (RFC 6455 §7.4). */
export function sendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== CLOSE_NO_STATUS && code !== CLOSE_ABNORMAL) || (code >= 3000 && code <= 4999);
}

export function closeFrame(code: number | undefined, reason: string, mask: boolean): Buffer {
  return encodeFrame(OP_CLOSE, closePayload(code, reason), mask);
}

/** The code and reason of a received close frame's payload (1005 when it has none). */
export function parseClose(payload: Buffer): { code: number; reason: string } {
  if (payload.length < 2) return { code: CLOSE_NO_STATUS, reason: '' };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
}

export type FrameEvent =
  | { kind: 'message'; binary: boolean; data: Buffer }
  | { kind: 'ping' | 'pong'; data: Buffer }
  | { kind: 'close'; code: number; reason: string };

/** Thrown by FrameReader for a stream that breaks the protocol; `code` is the close code to answer with. */
export class FrameError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/**
 * Reads frames from a byte stream and hands out whole messages (fragments joined) and control
 * frames. Masked frames are unmasked. Messages longer than `maxMessage` bytes are refused (1009).
 */
export class FrameReader {
  readonly #maxMessage: number;
  #buf: Buffer = Buffer.alloc(0);
  /** chunks received since #buf was last joined, and their length */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** bytes needed (in #buf plus #pending) before the current frame can be read */
  #need = 2;
  #fragments: Buffer[] = [];
  #fragmentBytes = 0;
  #fragmentBinary = false;
  #inMessage = false;

  constructor(maxMessage: number) {
    this.#maxMessage = maxMessage;
  }

  /** Adds bytes; returns the events completed by them, in order. Throws FrameError. */
  push(chunk: Buffer): FrameEvent[] {
    // a large frame arrives in many chunks: they are joined once, when the frame is complete
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#buf.length + this.#pendingBytes < this.#need) return [];
    this.#buf = this.#buf.length === 0 && this.#pending.length === 1 ? this.#pending[0] : Buffer.concat([this.#buf, ...this.#pending]);
    this.#pending = [];
    this.#pendingBytes = 0;
    const out: FrameEvent[] = [];
    for (;;) {
      const b = this.#buf;
      this.#need = 2;
      if (b.length < 2) break;
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      if ((b[0] & 0x70) !== 0) throw new FrameError('reserved bits set (no extension was negotiated)', CLOSE_PROTOCOL_ERROR);
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        this.#need = 4;
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        this.#need = 10;
        if (b.length < 10) break;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.#maxMessage)) throw new FrameError('message too big', CLOSE_TOO_BIG);
        len = Number(big);
        off = 10;
      }
      if (len > this.#maxMessage) throw new FrameError('message too big', CLOSE_TOO_BIG);
      const keyAt = off;
      if (masked) off += 4;
      this.#need = off + len;
      if (b.length < off + len) break;
      let payload = b.subarray(off, off + len);
      if (masked) {
        const unmasked = Buffer.allocUnsafe(len);
        for (let i = 0; i < len; i++) unmasked[i] = payload[i] ^ b[keyAt + (i & 3)];
        payload = unmasked;
      } else {
        payload = Buffer.from(payload);
      }
      this.#buf = b.subarray(off + len);
      const event = this.#frame(fin, opcode, payload);
      if (event !== null) out.push(event);
    }
    return out;
  }

  #frame(fin: boolean, opcode: number, payload: Buffer): FrameEvent | null {
    if (opcode >= 0x8) {
      if (!fin || payload.length > 125) throw new FrameError('invalid control frame', CLOSE_PROTOCOL_ERROR);
      if (opcode === OP_CLOSE) return { kind: 'close', ...parseClose(payload) };
      if (opcode === OP_PING) return { kind: 'ping', data: payload };
      if (opcode === OP_PONG) return { kind: 'pong', data: payload };
      throw new FrameError(`unknown opcode ${opcode}`, CLOSE_PROTOCOL_ERROR);
    }
    if (opcode === OP_CONTINUATION) {
      if (!this.#inMessage) throw new FrameError('continuation without a message', CLOSE_PROTOCOL_ERROR);
    } else if (opcode === OP_TEXT || opcode === OP_BINARY) {
      if (this.#inMessage) throw new FrameError('new message inside a fragmented one', CLOSE_PROTOCOL_ERROR);
      this.#inMessage = true;
      this.#fragmentBinary = opcode === OP_BINARY;
    } else {
      throw new FrameError(`unknown opcode ${opcode}`, CLOSE_PROTOCOL_ERROR);
    }
    this.#fragmentBytes += payload.length;
    if (this.#fragmentBytes > this.#maxMessage) throw new FrameError('message too big', CLOSE_TOO_BIG);
    this.#fragments.push(payload);
    if (!fin) return null;
    const data = this.#fragments.length === 1 ? this.#fragments[0] : Buffer.concat(this.#fragments);
    this.#fragments = [];
    this.#fragmentBytes = 0;
    this.#inMessage = false;
    return { kind: 'message', binary: this.#fragmentBinary, data };
  }
}

/**
 * Follows frame boundaries in a stream that is relayed as it is (payloads are skipped, not
 * read): tells where the next frame starts, and whether a close frame went by.
 */
export class FrameTracker {
  /** bytes of the current frame's header seen so far (while in a header) */
  #head = Buffer.alloc(14);
  #headLen = 0;
  /** payload bytes still to skip */
  #remaining = 0;
  /** a close frame passed (its header was seen) */
  sawClose = false;

  /** true between frames */
  get atBoundary(): boolean {
    return this.#headLen === 0 && this.#remaining === 0;
  }

  /**
   * Follows `chunk` from `start`; with `stopAtBoundary`, stops at the first frame boundary
   * reached after `start` (or at `start` when already at one). Returns the offset reached.
   */
  advance(chunk: Buffer, start = 0, stopAtBoundary = false): number {
    let i = start;
    const n = chunk.length;
    while (i < n) {
      if (stopAtBoundary && this.atBoundary) return i;
      if (this.#remaining > 0) {
        const skip = Math.min(this.#remaining, n - i);
        this.#remaining -= skip;
        i += skip;
        continue;
      }
      this.#head[this.#headLen++] = chunk[i++];
      const need = this.#headerSize();
      if (need !== null && this.#headLen === need) this.#endHeader();
    }
    return i;
  }

  /** the full header size once enough of it is known, else null */
  #headerSize(): number | null {
    if (this.#headLen < 2) return null;
    const h = this.#head;
    const len7 = h[1] & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((h[1] & 0x80) !== 0 ? 4 : 0);
  }

  #endHeader(): void {
    const h = this.#head;
    if ((h[0] & 0x0f) === OP_CLOSE) this.sawClose = true;
    const len7 = h[1] & 0x7f;
    this.#remaining = len7 === 126 ? h.readUInt16BE(2) : len7 === 127 ? Number(h.readBigUInt64BE(2)) : len7;
    this.#headLen = 0;
  }
}

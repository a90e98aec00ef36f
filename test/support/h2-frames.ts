/**
 * A raw HTTP/2 client for tests that must send what well-behaved clients refuse to send
 * (connection-specific headers, endless CONTINUATION frames, more streams than allowed):
 * frames are written by hand (HPACK literals without indexing or Huffman coding) and the
 * server's frames are read back as type, flags, stream id and payload.
 */
import net from 'node:net';

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 1, END_HEADERS: 4, ACK: 1 } as const;

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

function hpackInt(value: number, prefixBits: number, first: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([first | value]);
  const out = [first | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return Buffer.from(out);
}

/** A header block of literal fields (never indexed, no Huffman), in the order given. */
export function headerBlock(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    parts.push(Buffer.from([0x00]), hpackInt(n.length, 7, 0), n, hpackInt(v.length, 7, 0), v);
  }
  return Buffer.concat(parts);
}

export interface RawH2 {
  send(data: Buffer): void;
  /** resolves with the first frame (after `from`) matching `pred`, or null once the connection closed without one */
  waitFor(pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame | null>;
  frames: Frame[];
  closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

/** Connects, sends the preface and an empty SETTINGS frame, and acknowledges the server's SETTINGS. */
export async function rawH2(port: number): Promise<RawH2> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  let buf = Buffer.alloc(0);
  let closed = false;
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3);
      if (buf.length < 9 + len) break;
      const f: Frame = { type: buf[3], flags: buf[4], stream: buf.readUInt32BE(5) & 0x7fffffff, payload: buf.subarray(9, 9 + len) };
      buf = buf.subarray(9 + len);
      frames.push(f);
      if (f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0 && !socket.destroyed) socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
    }
    notify();
  });
  socket.on('error', () => undefined);
  const closedP = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      notify();
      resolve();
    }),
  );
  socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
  return {
    send: (data) => {
      if (!socket.destroyed) socket.write(data);
    },
    frames,
    closed: closedP,
    isClosed: () => closed,
    close: () => socket.destroy(),
    waitFor: (pred, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const f = frames.find(pred);
          if (f !== undefined || closed) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(f ?? null);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching frame within ${timeoutMs} ms; got ${frames.map((f) => f.type).join(',')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

/** The error code of a RST_STREAM or GOAWAY frame. */
export function errorCode(f: Frame): number {
  return f.type === FRAME.GOAWAY ? f.payload.readUInt32BE(4) : f.payload.readUInt32BE(0);
}

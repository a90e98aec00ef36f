/**
 * Raw TCP clients for listener tests: bytes go out exactly as given (malformed on purpose), and
 * the answer is what came back before the server closed the connection.
 */
import net from 'node:net';

export interface RawExchange {
  /** status of the first answer, 0 when none came */
  status: number;
  /** everything received */
  data: string;
  /** true when the server closed the connection (false: still open at the deadline) */
  closed: boolean;
  /** ms from connecting to the close (or the deadline) */
  ms: number;
}

/**
 * Connects, sends `chunks` (one string, or a list written `gapMs` apart while the connection is
 * open) and waits until the server closes the connection or `waitMs` pass.
 */
export function rawExchange(port: number, chunks: string | readonly string[], opts: { gapMs?: number; waitMs?: number } = {}): Promise<RawExchange> {
  const list = typeof chunks === 'string' ? [chunks] : chunks;
  const waitMs = opts.waitMs ?? 5000;
  return new Promise((resolve) => {
    const t0 = Date.now();
    let data = '';
    let settled = false;
    const socket = net.connect(port, '127.0.0.1', async () => {
      for (let i = 0; i < list.length && !socket.destroyed && !settled; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, opts.gapMs ?? 0));
        if (!socket.destroyed && !settled) socket.write(list[i], 'latin1');
      }
    });
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ status: m === null ? 0 : Number(m[1]), data, closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** An open connection that sends nothing more; `closed` resolves with the ms it stayed open once the server closes it. */
export function openConnection(port: number): Promise<{ socket: net.Socket; data: () => string; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    let data = '';
    const socket = net.connect(port, '127.0.0.1');
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - t0)));
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, data: () => data, closed }));
    socket.once('error', reject);
  });
}

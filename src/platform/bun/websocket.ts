import type { Socket } from 'node:net';
import { CLOSE_ABNORMAL, CLOSE_GOING_AWAY, CLOSE_NO_STATUS, CLOSE_PROTOCOL_ERROR, CLOSE_UPSTREAM_LOST, closeFrame, encodeFrame, FrameError, FrameReader, OP_BINARY, OP_PONG, OP_TEXT, sendableCloseCode, type FrameEvent } from '../../net/ws-frames.js';
import type { UpgradeOptions } from '../listener.js';

/** Time the upstream gets to answer the gateway's close frame before its connection is cut. */
const CLOSE_GRACE_MS = 2_000;
/**
 * Bun cannot stop reading a client's WebSocket: when this much is waiting to be written to a
 * slow upstream, the tunnel is closed (1013, try again later) instead of buffering without end.
 */
const UPSTREAM_BUFFER_LIMIT = 64 * 1024 * 1024;
const CLOSE_TRY_AGAIN_LATER = 1013;

/** The parts of Bun's ServerWebSocket a tunnel uses. */
export interface BunSocket {
  readonly data: BunTunnel;
  sendText(data: string): number;
  sendBinary(data: Uint8Array): number;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/**
 * WebSocket tunnels on Bun.serve: Bun completes the client's handshake (`server.upgrade`) and
 * hands over messages; the gateway speaks WebSocket to the upstream over the connection that
 * received the 101 and relays messages, close codes and reasons both ways. Each hop answers
 * its own pings.
 */
export class BunTunnels {
  readonly #opts: UpgradeOptions;
  readonly #open = new Set<BunTunnel>();
  closing = false;

  constructor(opts: UpgradeOptions) {
    this.#opts = opts;
  }

  /** A tunnel for an accepted upgrade; relaying starts when Bun opens the client's WebSocket. */
  tunnel(upstream: Socket, head: Buffer): BunTunnel {
    const t = new BunTunnel(upstream, head, this.#opts, () => this.#open.delete(t));
    this.#open.add(t);
    return t;
  }

  /** The `websocket` handlers of Bun.serve. */
  handlers() {
    return {
      // the gateway's own idle timeout applies (to both directions); Bun's would see the client only
      idleTimeout: 0,
      maxPayloadLength: this.#opts.maxMessageBytes,
      perMessageDeflate: false,
      open: (ws: BunSocket) => ws.data.open(ws),
      message: (ws: BunSocket, message: string | Buffer) => ws.data.fromClient(message),
      close: (ws: BunSocket, code: number, reason: string) => ws.data.clientClosed(code, reason),
      drain: (ws: BunSocket) => ws.data.clientDrained(),
    };
  }

  /** Closes every open tunnel with 1001 (going away); resolves once they are gone. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.#open].map((t) => t.goAway('server shutting down')));
  }
}

export class BunTunnel {
  readonly #upstream: Socket;
  readonly #reader: FrameReader;
  readonly #idle: NodeJS.Timeout | null;
  #head: Buffer | null;
  #ws: BunSocket | null = null;
  /** the gateway sent a close frame upstream */
  #closeSent = false;
  /** the client's WebSocket is closed (or closing) */
  #clientClosed = false;
  readonly #gone: Promise<void>;
  #resolveGone!: () => void;
  #onEnd: () => void;

  constructor(upstream: Socket, head: Buffer, opts: UpgradeOptions, onEnd: () => void) {
    this.#upstream = upstream;
    this.#head = head;
    this.#onEnd = onEnd;
    this.#reader = new FrameReader(opts.maxMessageBytes);
    this.#gone = new Promise((resolve) => (this.#resolveGone = resolve));
    this.#idle = opts.idleTimeoutMs > 0 ? setTimeout(() => void this.goAway('idle timeout'), opts.idleTimeoutMs) : null;
    this.#idle?.unref();
    upstream.setNoDelay(true);
    upstream.pause();
    upstream.on('data', (chunk: Buffer) => this.#fromUpstream(chunk));
    upstream.on('error', () => upstream.destroy());
    upstream.on('end', () => upstream.end());
    upstream.once('close', () => {
      // the upstream went away without a close handshake: the client is told so
      if (!this.#clientClosed) this.#closeClient(CLOSE_UPSTREAM_LOST, 'upstream connection lost');
      this.#ended();
    });
  }

  open(ws: BunSocket): void {
    this.#ws = ws;
    const head = this.#head;
    this.#head = null;
    if (head !== null && head.length > 0) this.#fromUpstream(head);
    this.#upstream.resume();
  }

  #fromUpstream(chunk: Buffer): void {
    this.#idle?.refresh();
    let events: FrameEvent[];
    try {
      events = this.#reader.push(chunk);
    } catch (err) {
      const code = err instanceof FrameError ? err.code : CLOSE_PROTOCOL_ERROR;
      this.#sendUpstream(closeFrame(code, (err as Error).message, true));
      this.#closeSent = true;
      this.#closeClient(CLOSE_UPSTREAM_LOST, 'upstream protocol error');
      this.#upstream.end();
      return;
    }
    for (const e of events) {
      if (e.kind === 'message') {
        const ws = this.#ws;
        if (ws === null || this.#clientClosed) continue;
        const sent = e.binary ? ws.sendBinary(e.data) : ws.sendText(e.data.toString('utf8'));
        if (sent === -1) this.#upstream.pause();
      } else if (e.kind === 'ping') {
        this.#sendUpstream(encodeFrame(OP_PONG, e.data, true));
      } else if (e.kind === 'close') {
        // the upstream closes: its code and reason go to the client; its close frame is answered
        if (!this.#closeSent) {
          this.#closeSent = true;
          this.#sendUpstream(closeFrame(e.code, e.reason, true));
        }
        this.#closeClient(e.code, e.reason);
        this.#upstream.end();
        setTimeout(() => this.#upstream.destroy(), CLOSE_GRACE_MS).unref();
        return;
      }
    }
  }

  fromClient(message: string | Buffer): void {
    this.#idle?.refresh();
    if (this.#closeSent) return;
    const binary = typeof message !== 'string';
    this.#sendUpstream(encodeFrame(binary ? OP_BINARY : OP_TEXT, binary ? message : Buffer.from(message, 'utf8'), true));
    if (this.#upstream.writableLength > UPSTREAM_BUFFER_LIMIT) {
      this.#closeSent = true;
      this.#closeClient(CLOSE_TRY_AGAIN_LATER, 'upstream too slow');
      this.#upstream.destroy();
    }
  }

  clientDrained(): void {
    this.#upstream.resume();
  }

  /** The client closed (or its connection was lost): the upstream gets the same code and reason. */
  clientClosed(code: number, reason: string): void {
    this.#clientClosed = true;
    if (this.#closeSent) return;
    this.#closeSent = true;
    if (code === CLOSE_ABNORMAL) {
      this.#upstream.destroy();
      return;
    }
    this.#sendUpstream(closeFrame(code === CLOSE_NO_STATUS ? undefined : code, reason, true));
    // the upstream answers with its close frame and ends the connection; if it does not, it is cut
    setTimeout(() => this.#upstream.destroy(), CLOSE_GRACE_MS).unref();
  }

  #closeClient(code: number, reason: string): void {
    if (this.#clientClosed) return;
    this.#clientClosed = true;
    const ws = this.#ws;
    if (ws === null) return;
    if (sendableCloseCode(code)) ws.close(code, reason);
    else ws.close();
  }

  #sendUpstream(frame: Buffer): void {
    if (!this.#upstream.destroyed && this.#upstream.writable) this.#upstream.write(frame);
  }

  /** Closes the tunnel with 1001 both ways. */
  goAway(reason: string): Promise<void> {
    this.#closeClient(CLOSE_GOING_AWAY, reason);
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#sendUpstream(closeFrame(CLOSE_GOING_AWAY, reason, true));
    }
    setTimeout(() => this.#upstream.destroy(), CLOSE_GRACE_MS).unref();
    return this.#gone;
  }

  #ended(): void {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#onEnd();
    this.#resolveGone();
  }
}

import http, { type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { CLOSE_GOING_AWAY, CLOSE_UPSTREAM_LOST, closeFrame, FrameTracker } from '../../net/ws-frames.js';
import type { UpgradeOptions, WebSocketUpgrade } from '../listener.js';

/** Time the two ends get to answer the gateway's close frame before their connections are cut. */
const CLOSE_GRACE_MS = 2_000;

/**
 * WebSocket upgrades on node:http (the server's 'upgrade' event): the request goes through the
 * proxy's upgrade handler with a ServerResponse written on the raw socket (for refusals); once
 * the upstream accepted, its 101 head goes to the client and the two connections are relayed
 * byte for byte, frame boundaries followed so that the gateway can close a tunnel cleanly
 * (idle timeout, shutdown) with close frames of its own.
 */
export class NodeUpgrades {
  readonly #opts: UpgradeOptions;
  readonly #server: Server;
  readonly #open = new Set<NodeTunnel>();
  #closing = false;

  constructor(opts: UpgradeOptions, server: Server) {
    this.#opts = opts;
    this.#server = server;
  }

  /** the server's 'upgrade' listener */
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const client = socket as Socket;
    if (!isWebSocket(req)) {
      // Another protocol (e.g. h2c): not offered; the request is served as a plain HTTP/1.1 one
      // (RFC 9110 §7.8), parsed again by the server without its Upgrade header.
      client.unshift(Buffer.concat([Buffer.from(withoutUpgrade(req), 'latin1'), head]));
      // node:https takes its connections, already decrypted, from 'secureConnection'
      this.#server.emit(this.#server instanceof tls.Server ? 'secureConnection' : 'connection', client);
      return;
    }
    client.on('error', () => client.destroy());
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(client);
    // an answer written here (a refusal) ends the connection
    res.once('finish', () => client.end());
    if (this.#closing) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' });
      res.end('Service Unavailable\n');
      return;
    }
    let accepted = false;
    const upgrade: WebSocketUpgrade = {
      relay: 'bytes',
      accept: (headers, upstream, upstreamHead) => {
        if (accepted || client.destroyed || this.#closing) {
          upstream.destroy();
          if (!accepted) client.destroy();
          return;
        }
        accepted = true;
        res.detachSocket(client);
        const tunnel = new NodeTunnel(client, head, upstream, upstreamHead, headers, this.#opts.idleTimeoutMs, () => this.#open.delete(tunnel));
        this.#open.add(tunnel);
      },
    };
    this.#opts.handler(req, res, upgrade);
  };

  /** Closes every open tunnel with 1001 (going away); resolves once their connections are gone. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#open].map((t) => t.goAway('server shutting down')));
  }
}

/** The request head again, without Upgrade and the Connection tokens that go with it. */
function withoutUpgrade(req: IncomingMessage): string {
  const raw = req.rawHeaders;
  const drop = new Set(['upgrade', 'http2-settings']);
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (drop.has(lower)) continue;
    let value = raw[i + 1];
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !drop.has(t.toLowerCase()))
        .join(', ');
      if (value === '') continue;
    }
    head += `${raw[i]}: ${value}\r\n`;
  }
  return head + '\r\n';
}

function isWebSocket(req: IncomingMessage): boolean {
  return /(^|,)\s*websocket\s*(,|$)/i.test(req.headers.upgrade ?? '') && req.method === 'GET';
}

/** One direction of a tunnel. */
interface Direction {
  readonly from: Socket;
  readonly to: Socket;
  readonly tracker: FrameTracker;
  /** frames written to `to` must be masked (toward the upstream, the gateway acts as the client) */
  readonly mask: boolean;
  /** the gateway's close frame is to go in at the next frame boundary */
  closeAfterFrame: boolean;
  /** the gateway closed this direction: nothing more is relayed */
  stopped: boolean;
}

class NodeTunnel {
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #up: Direction;
  readonly #down: Direction;
  readonly #idle: NodeJS.Timeout | null;
  #reason = '';
  #ended = false;
  readonly #gone: Promise<void>;

  constructor(client: Socket, clientHead: Buffer, upstream: Socket, upstreamHead: Buffer, headers: readonly string[], idleTimeoutMs: number, onEnd: () => void) {
    this.#client = client;
    this.#upstream = upstream;
    client.setTimeout(0);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.#up = { from: client, to: upstream, tracker: new FrameTracker(), mask: true, closeAfterFrame: false, stopped: false };
    this.#down = { from: upstream, to: client, tracker: new FrameTracker(), mask: false, closeAfterFrame: false, stopped: false };
    let head = 'HTTP/1.1 101 Switching Protocols\r\n';
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    client.write(head + '\r\n');
    this.#idle = idleTimeoutMs > 0 ? setTimeout(() => void this.goAway('idle timeout'), idleTimeoutMs) : null;
    this.#idle?.unref();
    this.#gone = new Promise<void>((resolve) => {
      let open = 2;
      const closed = () => {
        if (--open > 0) return;
        if (this.#idle !== null) clearTimeout(this.#idle);
        onEnd();
        resolve();
      };
      client.once('close', closed);
      upstream.once('close', closed);
    });
    for (const d of [this.#up, this.#down]) {
      d.from.on('data', (chunk: Buffer) => this.#relay(d, chunk));
      d.from.on('end', () => this.#lost(d));
      d.from.on('error', () => this.#lost(d));
      d.from.on('close', () => {
        this.#lost(d);
        setTimeout(() => d.to.destroy(), CLOSE_GRACE_MS).unref();
      });
      d.to.on('drain', () => d.from.resume());
    }
    if (upstreamHead.length > 0) this.#relay(this.#down, upstreamHead);
    if (clientHead.length > 0) this.#relay(this.#up, clientHead);
    upstream.resume();
    client.resume();
  }

  #relay(d: Direction, chunk: Buffer): void {
    this.#idle?.refresh();
    if (d.stopped) {
      // the gateway closed this direction: only the peer's answering close frame is awaited
      d.tracker.advance(chunk);
      if (d.tracker.sawClose) d.from.end();
      return;
    }
    if (d.closeAfterFrame) {
      const at = d.tracker.advance(chunk, 0, true);
      if (at > 0) d.to.write(chunk.subarray(0, at));
      if (!d.tracker.atBoundary) return;
      this.#sendClose(d);
      if (at < chunk.length) this.#relay(d, chunk.subarray(at));
      return;
    }
    d.tracker.advance(chunk);
    if (!d.to.write(chunk)) d.from.pause();
  }

  /**
   * One end's connection ended (or failed): the other end's is ended too. An upstream gone
   * without a close frame is reported to the client as 1011 (when between frames).
   */
  #lost(d: Direction): void {
    if (d.to.writableEnded || d.to.destroyed) return;
    if (d === this.#down && !d.stopped && !d.tracker.sawClose && d.tracker.atBoundary) {
      d.stopped = true;
      d.to.write(closeFrame(CLOSE_UPSTREAM_LOST, 'upstream connection lost', false));
    }
    d.to.end();
  }

  #sendClose(d: Direction): void {
    d.closeAfterFrame = false;
    d.stopped = true;
    d.from.resume();
    d.to.write(closeFrame(CLOSE_GOING_AWAY, this.#reason, d.mask));
  }

  /**
   * Closes the tunnel with 1001 both ways: a close frame to each end (between frames), then
   * each connection ends once its end answered, or after a grace time.
   */
  goAway(reason: string): Promise<void> {
    if (!this.#ended) {
      this.#ended = true;
      this.#reason = reason;
      for (const d of [this.#up, this.#down]) {
        // a close handshake already under way that way is left to finish
        if (d.tracker.sawClose) continue;
        if (d.tracker.atBoundary) this.#sendClose(d);
        else d.closeAfterFrame = true;
      }
      setTimeout(() => this.#cut(), CLOSE_GRACE_MS).unref();
    }
    return this.#gone;
  }

  #cut(): void {
    this.#client.destroy();
    this.#upstream.destroy();
  }
}

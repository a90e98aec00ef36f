import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { rawRefusal, refuse, type ListenerLimits, type OnRefusal } from './listener-limits.js';

interface Connection {
  /** requests whose answer is not yet closed */
  inFlight: number;
  /** a request head is being received (bytes came while no request was in flight) */
  inHead: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  done: boolean;
}

/**
 * The listener deadlines node:http enforces itself on Node (`headersTimeout`, `requestTimeout`,
 * `keepAliveTimeout`) for connections handed to Bun's node:http with `emit('connection')`, which
 * Bun's node:http does not time: a request head late past `headerTimeoutMs` is answered 408 and
 * closed, a request body late past `requestTimeoutMs` (from the end of its head) too, and a
 * connection idle between requests past `idleTimeoutMs` is closed.
 */
export class ConnectionDeadlines {
  readonly #limits: ListenerLimits;
  readonly #onRefusal: OnRefusal;
  readonly #connections = new WeakMap<Socket, Connection>();

  constructor(limits: ListenerLimits, onRefusal: OnRefusal) {
    this.#limits = limits;
    this.#onRefusal = onRefusal;
  }

  /** A new connection: its first request head is timed from now. */
  watch(socket: Socket): void {
    const c: Connection = { inFlight: 0, inHead: true, timer: null, done: false };
    this.#connections.set(socket, c);
    this.#headTimer(socket, c);
    socket.on('data', () => {
      if (c.done || c.inFlight > 0 || c.inHead) return;
      c.inHead = true;
      this.#headTimer(socket, c);
    });
    socket.once('close', () => this.#stop(c));
  }

  /** The connection became a tunnel (WebSocket upgrade), timed by the tunnel itself. */
  release(socket: Socket): void {
    const c = this.#connections.get(socket);
    if (c !== undefined) this.#stop(c);
  }

  /** A request head was received on `req.socket`: its body is timed from now until it ends. */
  request(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const c = this.#connections.get(socket);
    if (c === undefined || c.done) return;
    c.inFlight++;
    c.inHead = false;
    this.#clear(c);
    const requestMs = this.#limits.requestTimeoutMs;
    // a request without a body is whole with its head (Bun's node:http ends it only once read)
    if (requestMs > 0 && !req.complete && hasBody(req)) {
      const timer = setTimeout(() => {
        this.#onRefusal('request_timeout');
        // the pipeline's answer becomes the refusal (its upstream request is aborted when the answer closes)
        refuse(res, 408);
      }, requestMs);
      const stop = () => clearTimeout(timer);
      req.once('end', stop);
      res.once('close', stop);
    }
    res.once('close', () => {
      c.inFlight--;
      if (c.inFlight === 0 && !c.done) this.#idleTimer(socket, c);
    });
  }

  #headTimer(socket: Socket, c: Connection): void {
    this.#clear(c);
    const ms = this.#limits.headerTimeoutMs;
    if (ms <= 0) return;
    c.timer = setTimeout(() => {
      if (c.inFlight > 0) return;
      this.#onRefusal('header_timeout');
      this.#stop(c);
      socket.end(rawRefusal(408));
    }, ms);
  }

  #idleTimer(socket: Socket, c: Connection): void {
    this.#clear(c);
    const ms = this.#limits.idleTimeoutMs;
    if (ms <= 0) return;
    c.timer = setTimeout(() => {
      if (c.inFlight > 0 || c.inHead) return;
      this.#stop(c);
      socket.destroy();
    }, ms);
  }

  #clear(c: Connection): void {
    if (c.timer !== null) clearTimeout(c.timer);
    c.timer = null;
  }

  #stop(c: Connection): void {
    c.done = true;
    this.#clear(c);
  }
}

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

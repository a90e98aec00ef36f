import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Connections a front server (node:tls, or the h2c port's first-bytes check) hands to node:http,
 * with how many of their requests are being answered. Closing cuts the idle ones at once and each
 * busy one when its last answer is done, as node:http does with the connections it accepted.
 */
export class HandedConnections {
  readonly #inFlight = new Map<Socket, number>();
  #closing = false;

  get closing(): boolean {
    return this.#closing;
  }

  /** A connection handed over, before node:http is given it. */
  add(socket: Socket): void {
    this.#inFlight.set(socket, 0);
    socket.once('close', () => this.#inFlight.delete(socket));
  }

  /** A request on a handed connection, counted until its answer closes. */
  request(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const sockets = this.#inFlight;
    sockets.set(socket, (sockets.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const n = (sockets.get(socket) ?? 1) - 1;
      if (sockets.has(socket)) sockets.set(socket, n);
      if (this.#closing && n === 0) socket.destroy();
    });
  }

  close(): void {
    this.#closing = true;
    for (const [socket, n] of this.#inFlight) if (n === 0) socket.destroy();
  }
}

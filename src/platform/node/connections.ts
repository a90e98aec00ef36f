import type { Server } from 'node:net';
import type { ConnectionSink } from '../listener.js';

const OPENED = Object.freeze({ delta: 1 as const });
const CLOSED = Object.freeze({ delta: -1 as const });

/** Tells `sink` of every client connection of `server` while it has subscribers. */
export function reportConnections(server: Server, sink: ConnectionSink | undefined): void {
  if (sink === undefined) return;
  server.on('connection', (socket: import('node:net').Socket) => {
    if (!sink.hasSubscribers) return;
    sink.publish(OPENED);
    socket.once('close', () => sink.publish(CLOSED));
  });
}

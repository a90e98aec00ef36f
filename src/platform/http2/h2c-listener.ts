/**
 * HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge) on one port: each new connection is
 * handed, by its first bytes, to node:http (the same server the Node listener uses) or to
 * node:http2. On Bun too (Bun.serve cannot be given a connection): there the HTTP/1.1 side is
 * Bun's node:http.
 */
import net from 'node:net';
import type { Socket } from 'node:net';
import type { ServerHttp2Session } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen } from '../../net/listen.js';
import { isBun } from '../runtime.js';
import type { Http2Limits, HttpListener, ListenerOptions, RequestHandler, UpgradeOptions } from '../listener.js';
import { ConnectionDeadlines } from '../connection-deadlines.js';
import { HandedConnections } from '../handed-connections.js';
import { createHttpServer } from '../node/listener.js';
import { reportConnections } from '../node/connections.js';
import { createH2cServer } from './server.js';

/** The client connection preface of HTTP/2 (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Time a new connection has to send its first bytes. */
const FIRST_BYTES_TIMEOUT_MS = 30_000;

/** 'h2' when `head` starts the HTTP/2 preface, 'h1' when it cannot, null when more bytes are needed. */
export function protocolOf(head: Buffer): 'h1' | 'h2' | null {
  const n = Math.min(head.length, PREFACE.length);
  if (head.compare(PREFACE, 0, n, 0, n) !== 0) return 'h1';
  return n === PREFACE.length ? 'h2' : null;
}

export function createH2cListener(opts: ListenerOptions, limits: Http2Limits, handler: RequestHandler, upgrade?: UpgradeOptions): HttpListener {
  const handed = new HandedConnections();
  // node:http times only connections it accepted itself: these are handed to it, so they are timed here
  const deadlines = new ConnectionDeadlines(opts.limits, opts.onRefusal);
  const { server: h1, upgrades } = createHttpServer(opts, (req: IncomingMessage, res: ServerResponse) => {
    deadlines.request(req, res);
    handed.request(req, res);
    handler(req, res);
  }, upgrade);
  // a WebSocket tunnel is timed by the tunnel itself
  if (upgrades !== null) h1.on('upgrade', (_req: IncomingMessage, socket: Socket) => deadlines.release(socket));
  const h2 = createH2cServer(limits, handler);
  const sessions = new Set<ServerHttp2Session>();
  h2.on('session', (s: ServerHttp2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    if (handed.closing) s.close();
  });

  const dispatch = (socket: Socket, protocol: 'h1' | 'h2') => {
    socket.setTimeout(0);
    if (protocol === 'h2') {
      h2.emit('connection', socket);
      // Node's session reads the socket natively (buffered bytes included); Bun's reads its events
      if (isBun) socket.resume();
      return;
    }
    handed.add(socket);
    deadlines.watch(socket);
    h1.emit('connection', socket);
    socket.resume();
  };

  const front = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.setTimeout(opts.limits.headerTimeoutMs > 0 ? opts.limits.headerTimeoutMs : FIRST_BYTES_TIMEOUT_MS, () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const protocol = protocolOf(head);
      if (protocol === null) return;
      socket.off('data', onData);
      socket.pause();
      socket.unshift(head);
      dispatch(socket, protocol);
    };
    socket.on('data', onData);
  });
  if (opts.limits.maxConnections > 0) front.maxConnections = opts.limits.maxConnections;
  reportConnections(front, opts.connections);

  return {
    // Bun's workers bind the port each (SO_REUSEPORT); Node's share the primary's socket (node:cluster)
    listen: () => listen(front, opts.port, opts.host, isBun && opts.reusePort),
    close: () =>
      new Promise((resolve) => {
        handed.close();
        front.close(() => resolve());
        for (const s of sessions) s.close();
        void upgrades?.close();
      }),
  };
}

/**
 * The proxy listener's limits, shared by both adapters (node/listener.ts, bun/listener.ts):
 * what each runtime's parser does not enforce by itself is checked here, once the head is
 * parsed and before any handler runs. Every refusal closes the connection (what follows the
 * refused head cannot be trusted to be a request) and is reported through `onRefusal`.
 */
import type { ProxyRequest, ProxyResponse } from './exchange.js';

export interface ListenerLimits {
  /** request line and header lines, bytes: larger → 431 */
  readonly maxHeaderBytes: number;
  /** request target, bytes: longer → 414 */
  readonly maxUrlBytes: number;
  /** time to receive a request head, ms (> 0) */
  readonly headerTimeoutMs: number;
  /** time to receive a whole request, body included, ms; 0 = none */
  readonly requestTimeoutMs: number;
  /** keep-alive idle time between requests, ms; 0 = none */
  readonly idleTimeoutMs: number;
  /** client connections (Bun: requests in flight); 0 = no limit */
  readonly maxConnections: number;
}

/** The defaults of the `proxy.*` keys (config/listener-keys.ts). */
export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  maxHeaderBytes: 16 * 1024,
  maxUrlBytes: 8 * 1024,
  headerTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  maxConnections: 10_000,
};

export type RefusalReason =
  | 'bad_request'
  | 'header_too_large'
  | 'url_too_long'
  | 'body_too_large'
  | 'header_timeout'
  | 'request_timeout'
  | 'connection_limit';

export type OnRefusal = (reason: RefusalReason) => void;

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  503: 'Service Unavailable',
};

/** A complete answer as bytes, for refusals written to the socket before there is a response object. */
export function rawRefusal(status: number): string {
  const body = `${REASONS[status]}\n`;
  return `HTTP/1.1 ${status} ${REASONS[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

/** Answers `status` with `Connection: close` (the listener closes the connection after it); a started answer is cut instead. */
export function refuse(res: ProxyResponse, status: number): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  const body = `${REASONS[status]}\n`;
  res.writeHead(status, ['Connection', 'close', 'Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.length), 'X-Content-Type-Options', 'nosniff']);
  res.end(body);
}

/**
 * Whether a head the parser gave up on (too large) is too large because of its request line:
 * `packet` is the data the parser was reading; a request line still unterminated past the URL
 * limit means the URL is what is too long.
 */
export function urlOverflowed(packet: Buffer | undefined, maxUrlBytes: number): boolean {
  if (packet === undefined || packet.length === 0) return false;
  if (!/^[A-Z]{3,10} /.test(packet.subarray(0, 11).toString('latin1'))) return false;
  const lf = packet.indexOf(10);
  return lf < 0 ? packet.length > maxUrlBytes : lf > maxUrlBytes;
}

/** What a parser lets through that the listener then refuses itself (guardHead). */
export interface ParserGaps {
  /** its head limit is not maxHeaderBytes (Bun.serve's is fixed; a lax node:http parser's is set above it) */
  readonly headSize: boolean;
  /** it takes repeated Content-Length lines (Bun.serve joins them: "5, 5"; Bun's node:http keeps one) */
  readonly repeatedContentLength: boolean;
}

/** Node's node:http parser (llhttp): it refuses repeated Content-Length and enforces maxHeaderSize. */
export const NO_PARSER_GAPS: ParserGaps = { headSize: false, repeatedContentLength: false };

/**
 * The handler behind the head checks: a request target longer than maxUrlBytes → 414; where
 * the parser lets them through (`gaps`), repeated Content-Length lines → 400 (RFC 9112 §6.3
 * allows refusing them) and a head larger than maxHeaderBytes → 431.
 */
export function guardHead<Q extends ProxyRequest, S extends ProxyResponse>(limits: ListenerLimits, onRefusal: OnRefusal, handler: (req: Q, res: S) => void, gaps: ParserGaps): (req: Q, res: S) => void {
  const maxUrl = limits.maxUrlBytes;
  const maxHead = limits.maxHeaderBytes;
  const { headSize, repeatedContentLength } = gaps;
  return (req: Q, res: S) => {
    const url = req.url!;
    if (url.length > maxUrl) {
      onRefusal('url_too_long');
      return refuse(res, 414);
    }
    if (repeatedContentLength && req.headers['content-length'] !== undefined && contentLengthRepeated(req)) {
      onRefusal('bad_request');
      return refuse(res, 400);
    }
    if (headSize) {
      const raw = req.rawHeaders;
      // request line: method, target, version and separators
      let size = req.method!.length + url.length + 12;
      for (let i = 0; i < raw.length; i++) size += raw[i].length + 2;
      if (size > maxHead) {
        onRefusal('header_too_large');
        return refuse(res, 431);
      }
    }
    handler(req, res);
  };
}

/** More than one Content-Length value: a joined list, or the name on two header lines. */
function contentLengthRepeated(req: ProxyRequest): boolean {
  if (req.headers['content-length']!.includes(',')) return true;
  const raw = req.rawHeaders;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 14 && raw[i].toLowerCase() === 'content-length' && ++seen > 1) return true;
  return false;
}

/** Node's check interval for its header and request deadlines: a quarter of the shorter one, between 100 ms and 1 s. */
export function deadlineCheckMs(limits: ListenerLimits): number {
  const shortest = limits.requestTimeoutMs > 0 ? Math.min(limits.headerTimeoutMs, limits.requestTimeoutMs) : limits.headerTimeoutMs;
  return Math.max(100, Math.min(1000, Math.floor(shortest / 4)));
}

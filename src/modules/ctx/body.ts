/** Bodies as module code reads and writes them. */
import { Errors } from '../../core/errors.js';
import type { ProxyResponse } from '../../platform/exchange.js';

export type BodyInput = string | ArrayBuffer | ArrayBufferView;

/** A body given by module code, as bytes. Objects are refused (use writeJson / json). */
export function toBuffer(data: unknown, method: string): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer || Object.prototype.toString.call(data) === '[object ArrayBuffer]') return Buffer.from(data as ArrayBuffer);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data === undefined || data === null) return Buffer.alloc(0);
  throw new TypeError(`${method}: expected a string, ArrayBuffer or typed array (use writeJson/json for objects)`);
}

/** An ArrayBuffer holding exactly these bytes. */
export function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** The error a request stream fails with when its client went away (node:http: 'aborted'; fetch: AbortError). */
function clientWentAway(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown } | null;
  return e?.code === 'ECONNRESET' || e?.name === 'AbortError';
}

/**
 * Reads a client's whole request body for module code: rejects with Errors.CLIENT_CLOSED as soon
 * as the client is gone (its answer closed before it was complete, or the stream failed because
 * it went away) instead of waiting for bytes that will not come, and stops reading the stream then.
 */
export function readRequestBody(stream: AsyncIterable<Buffer>, res: ProxyResponse, limit: number): Promise<Buffer> {
  if (res.destroyed) return Promise.reject(Errors.CLIENT_CLOSED());
  const iterator = stream[Symbol.asyncIterator]();
  return new Promise((resolve, reject) => {
    let settled = false;
    let chunks: Buffer[] = [];
    let size = 0;
    // settles once; the chunks read so far are let go then (the close listener, which keeps this scope, may live as long as the answer)
    const settle = (): void => {
      settled = true;
      chunks = [];
    };
    const gone = (): void => {
      if (settled) return;
      settle();
      reject(Errors.CLIENT_CLOSED());
      void Promise.resolve(iterator.return?.()).catch(() => undefined);
    };
    res.once('close', gone);
    const next = (): void => {
      iterator.next().then(
        (r) => {
          if (settled) return;
          if (r.done === true) {
            const body = Buffer.concat(chunks, size);
            settle();
            resolve(body);
            return;
          }
          size += r.value.length;
          if (size > limit) {
            settle();
            reject(new Error(`body larger than ${limit} bytes`));
            void Promise.resolve(iterator.return?.()).catch(() => undefined);
            return;
          }
          chunks.push(r.value);
          next();
        },
        (err: unknown) => {
          if (settled) return;
          if (res.destroyed || clientWentAway(err)) return gone();
          settle();
          reject(err);
        },
      );
    };
    next();
  });
}

/** Largest body module code may read into memory. */
export const READ_LIMIT = 32 * 1024 * 1024;

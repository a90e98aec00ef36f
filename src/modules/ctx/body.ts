/** Bodies as module code reads and writes them. */

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

/** Reads a whole stream of Buffers. */
export async function readAll(stream: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > limit) throw new Error(`body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Largest body module code may read into memory. */
export const READ_LIMIT = 32 * 1024 * 1024;

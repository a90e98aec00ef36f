import { types } from 'node:util';
import { parseDuration as parseDurationNs } from '../../core/duration.js';
import type { ModuleHost } from '../host.js';

/**
 * `dgate/util`: conversions a module author needs between text, bytes and durations.
 *
 * Bytes come back as ArrayBuffer, as everywhere in the dgate/* imports. Byte inputs may be an
 * ArrayBuffer or any typed array / DataView, from this realm or a module's vm context (the checks
 * below are realm-independent). DGate's `readWriteBody` expected a Go object and could not be
 * called from JavaScript, so it is not offered.
 *
 * The helpers `toBytes`, `toArrayBuffer` and `durationMs` are shared with the other dgate/* files.
 */
export const name = 'dgate/util';

/** what a byte argument may be: a string is read as UTF-8 */
export type BinaryInput = string | ArrayBuffer | ArrayBufferView;

// Standard or URL alphabet, optional padding, whitespace ignored (as in PEM bodies).
const BASE64 = /^(?:[A-Za-z0-9+/\-_]{4})*(?:[A-Za-z0-9+/\-_]{2}(?:==)?|[A-Za-z0-9+/\-_]{3}=?)?$/;
const WHITESPACE = /\s+/g;

/** Bytes of a string (UTF-8), ArrayBuffer or view, without copying when not needed; `what` names the argument in errors. */
export function toBytes(data: unknown, what = 'data'): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (types.isAnyArrayBuffer(data)) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what} must be a string, an ArrayBuffer or a typed array`);
}

/** A fresh ArrayBuffer holding exactly `bytes` (a Buffer may be a view on a shared pool). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

/**
 * Milliseconds from a duration: a number is seconds (fractions kept: 0.5 → 500), a string is a
 * Go-style duration ("30ms", "1.5s", "1m30s"). Negative, non-finite and malformed values throw.
 */
export function durationMs(value: unknown, what = 'duration'): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value * 1000;
  } else if (typeof value === 'string') {
    const ns = parseDurationNs(value.trim());
    if (ns === null) throw new TypeError(`invalid ${what}: ${JSON.stringify(value)}`);
    ms = ns / 1e6;
  } else {
    throw new TypeError(`${what} must be a number of seconds or a duration string such as "250ms"`);
  }
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`invalid ${what}: ${String(value)} (must be zero or more)`);
  return ms;
}

export function create(_host: ModuleHost): Record<string, unknown> {
  return {
    /** standard base64 (padded) of a string's UTF-8 bytes or of binary data */
    toBase64(data: BinaryInput): string {
      return Buffer.from(toBytes(data)).toString('base64');
    },

    /** the bytes of base64 text (standard or URL alphabet, padding optional); anything else throws */
    fromBase64(text: string): ArrayBuffer {
      if (typeof text !== 'string') throw new TypeError('fromBase64: text must be a string');
      const compact = text.replace(WHITESPACE, '');
      if (!BASE64.test(compact)) throw new TypeError('fromBase64: invalid base64 text');
      return toArrayBuffer(Buffer.from(compact, 'base64'));
    },

    /** UTF-8 bytes of a string */
    textEncode(text: string): ArrayBuffer {
      if (typeof text !== 'string') throw new TypeError('textEncode: text must be a string');
      return toArrayBuffer(Buffer.from(text, 'utf8'));
    },

    /** the string whose UTF-8 bytes these are (invalid sequences become U+FFFD) */
    textDecode(data: ArrayBuffer | ArrayBufferView): string {
      if (typeof data === 'string') throw new TypeError('textDecode: data must be an ArrayBuffer or a typed array');
      return new TextDecoder('utf-8').decode(toBytes(data));
    },

    /** milliseconds in a Go-style duration string: "1.5s" → 1500, "250us" → 0.25, "-2m" → -120000 */
    parseDuration(text: string): number {
      if (typeof text !== 'string') throw new TypeError('parseDuration: text must be a string such as "1.5s"');
      const ns = parseDurationNs(text.trim());
      if (ns === null) throw new TypeError(`parseDuration: invalid duration: ${JSON.stringify(text)}`);
      return ns / 1e6;
    },
  };
}

import nodeCrypto from 'node:crypto';
import type { ModuleHost } from '../host.js';
import type { BinaryInput } from './util.js';
import { toArrayBuffer, toBytes } from './util.js';

/**
 * `dgate/crypto`: hashes, HMACs and randomness, on top of node:crypto.
 *
 * Differences from DGate, on purpose: HMAC output is the standard one (RFC 2104; DGate reused one
 * hash state for the inner and outer pass), the names `getHashes()` lists are accepted by
 * `createHash`, an unknown digest encoding throws instead of silently returning bytes, and
 * `randomUUID` exists.
 */
export const name = 'dgate/crypto';

/** DGate's algorithm names → OpenSSL's; the hyphen forms are accepted too */
const ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['md5', 'md5'],
  ['sha1', 'sha1'],
  ['sha256', 'sha256'],
  ['sha384', 'sha384'],
  ['sha512', 'sha512'],
  ['sha512_224', 'sha512-224'],
  ['sha512_256', 'sha512-256'],
  ['sha512-224', 'sha512-224'],
  ['sha512-256', 'sha512-256'],
]);
const HASH_NAMES = ['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha512_224', 'sha512_256'] as const;

export type DigestEncoding =
  | 'hex'
  | 'base64' | 'b64'
  | 'base64raw' | 'b64raw'
  | 'base64url' | 'b64url'
  | 'base64rawurl' | 'b64rawurl';

/** digest encodings → how to turn the bytes into text */
const ENCODERS: ReadonlyMap<string, (b: Buffer) => string> = new Map([
  ['hex', (b) => b.toString('hex')],
  ['base64', (b) => b.toString('base64')],
  ['b64', (b) => b.toString('base64')],
  ['base64raw', (b) => b.toString('base64').replace(/=+$/, '')],
  ['b64raw', (b) => b.toString('base64').replace(/=+$/, '')],
  // Go's URLEncoding: URL alphabet, padded (Node's 'base64url' is the unpadded form)
  ['base64url', (b) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_')],
  ['b64url', (b) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_')],
  ['base64rawurl', (b) => b.toString('base64url')],
  ['b64rawurl', (b) => b.toString('base64url')],
]);

/** largest randomBytes(n): the bytes are made synchronously, on the request path */
const MAX_RANDOM_BYTES = 1024 * 1024;

/** what createHash and createHmac return */
export interface Digester {
  update(data: BinaryInput): Digester;
  digest(encoding?: DigestEncoding): string | ArrayBuffer;
}

function algorithm(alg: unknown): string {
  const found = typeof alg === 'string' ? ALGORITHMS.get(alg.toLowerCase()) : undefined;
  if (found === undefined) throw new Error(`invalid hash algorithm: ${String(alg)}`);
  return found;
}

/** Checked before digesting, so a typo does not consume the hash. */
function encoder(encoding: unknown): ((b: Buffer) => string) | null {
  if (encoding === undefined || encoding === null) return null;
  const found = typeof encoding === 'string' ? ENCODERS.get(encoding) : undefined;
  if (found === undefined) {
    throw new Error(`invalid digest encoding: ${String(encoding)} (use hex, base64, base64raw, base64url, base64rawurl, or none for an ArrayBuffer)`);
  }
  return found;
}

function wrap(inner: nodeCrypto.Hash | nodeCrypto.Hmac): Digester {
  const digester: Digester = {
    update(data) {
      inner.update(toBytes(data));
      return digester;
    },
    digest(encoding) {
      const encode = encoder(encoding);
      const bytes = inner.digest();
      return encode === null ? toArrayBuffer(bytes) : encode(bytes);
    },
  };
  return digester;
}

function createHash(alg: string): Digester {
  return wrap(nodeCrypto.createHash(algorithm(alg)));
}

function createHmac(alg: string, key: BinaryInput): Digester {
  return wrap(nodeCrypto.createHmac(algorithm(alg), toBytes(key, 'key')));
}

function shortcut(alg: string) {
  return (data: BinaryInput, encoding?: DigestEncoding): string | ArrayBuffer => createHash(alg).update(data).digest(encoding);
}

export function create(_host: ModuleHost): Record<string, unknown> {
  return {
    createHash,
    createHmac,
    hmac(alg: string, key: BinaryInput, data: BinaryInput, encoding?: DigestEncoding): string | ArrayBuffer {
      return createHmac(alg, key).update(data).digest(encoding);
    },
    md5: shortcut('md5'),
    sha1: shortcut('sha1'),
    sha256: shortcut('sha256'),
    sha384: shortcut('sha384'),
    sha512: shortcut('sha512'),
    sha512_224: shortcut('sha512_224'),
    sha512_256: shortcut('sha512_256'),
    /** the algorithm names createHash accepts (DGate's underscore spelling) */
    getHashes(): string[] {
      return [...HASH_NAMES];
    },
    randomBytes(n: number): ArrayBuffer {
      if (!Number.isInteger(n) || n < 1 || n > MAX_RANDOM_BYTES) {
        throw new RangeError(`randomBytes: n must be an integer from 1 to ${MAX_RANDOM_BYTES}, got ${String(n)}`);
      }
      return toArrayBuffer(nodeCrypto.randomBytes(n));
    },
    /** randomInt(max) → [0, max); randomInt(min, max) → [min, max); safe integers, max - min < 2^48 */
    randomInt(minOrMax: number, max?: number): number {
      return max === undefined ? nodeCrypto.randomInt(minOrMax) : nodeCrypto.randomInt(minOrMax, max);
    },
    randomUUID(): string {
      return nodeCrypto.randomUUID();
    },
    /** lowercase hex of a string's UTF-8 bytes or of binary data */
    hexEncode(data: BinaryInput): string {
      return Buffer.from(toBytes(data)).toString('hex');
    },
  };
}

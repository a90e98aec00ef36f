/**
 * Declarations of the `dgate` and `dgate/*` imports, for the editors of module authors.
 * Hand-written: keep them in step with src/modules/api/*.ts.
 *
 * Modules run with web-platform globals only (console, fetch, URL, URLSearchParams,
 * TextEncoder/TextDecoder, atob/btoa, timers, queueMicrotask, structuredClone, crypto,
 * Headers/Request/Response/FormData, AbortController/AbortSignal, Blob, performance.now);
 * use lib "dom" (or @types/node for those names) for their types. There is no `process`,
 * `require`, `Buffer` or file system. The per-request `ctx` is declared separately.
 *
 * Bytes are returned as ArrayBuffer everywhere; wrap one in `new Uint8Array(buf)` to read it.
 */

declare module 'dgate/util' {
  /** bytes as input: a string stands for its UTF-8 bytes */
  export type BinaryInput = string | ArrayBuffer | ArrayBufferView;

  /** standard base64 (with padding) of a string's UTF-8 bytes or of binary data */
  export function toBase64(data: BinaryInput): string;
  /** the bytes of base64 text, standard or URL alphabet, padding optional; invalid text throws */
  export function fromBase64(text: string): ArrayBuffer;
  /** the UTF-8 bytes of a string */
  export function textEncode(text: string): ArrayBuffer;
  /** the string of UTF-8 bytes (invalid sequences become U+FFFD) */
  export function textDecode(data: ArrayBuffer | ArrayBufferView): string;
  /** milliseconds in a Go-style duration: "1.5s" → 1500, "250us" → 0.25, "1h30m" → 5400000; invalid text throws */
  export function parseDuration(text: string): number;
}

declare module 'dgate/http' {
  export interface FetchOptions extends Omit<RequestInit, 'redirect'> {
    redirect?: 'follow' | 'error' | 'manual';
    /** DGate's name for `redirect` (`redirect` wins when both are given) */
    redirects?: 'follow' | 'error' | 'manual';
    /**
     * Milliseconds until the request is aborted (rejecting with a TimeoutError). Without
     * `timeout` and `signal`, the gateway's default limit applies; a `signal` alone replaces it.
     */
    timeout?: number;
  }
  /**
   * The standard fetch (also available as the global `fetch`). Sends `User-Agent: DGate-Client/1.0`
   * unless you set one. HTTP error statuses resolve (check `res.ok`); network errors, timeouts and
   * aborts reject.
   */
  export function fetch(input: string | URL | Request, options?: FetchOptions): Promise<Response>;
}

declare module 'dgate/crypto' {
  import type { BinaryInput } from 'dgate/util';

  /** `sha512-224` and `sha512-256` are accepted too, and upper case */
  export type HashAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sha512_224' | 'sha512_256';
  /**
   * `base64`: standard, padded; `base64raw`: unpadded; `base64url`: URL alphabet, padded;
   * `base64rawurl`: URL alphabet, unpadded. Any other string throws.
   */
  export type DigestEncoding =
    | 'hex'
    | 'base64' | 'b64'
    | 'base64raw' | 'b64raw'
    | 'base64url' | 'b64url'
    | 'base64rawurl' | 'b64rawurl';

  export interface Hash {
    /** adds data; chainable */
    update(data: BinaryInput): Hash;
    /** the result as text; once only */
    digest(encoding: DigestEncoding): string;
    /** the result as bytes; once only */
    digest(): ArrayBuffer;
  }

  /** an unknown algorithm throws `invalid hash algorithm: <alg>` */
  export function createHash(alg: HashAlgorithm | 'sha512-224' | 'sha512-256'): Hash;
  /** HMAC (RFC 2104) with `key` */
  export function createHmac(alg: HashAlgorithm | 'sha512-224' | 'sha512-256', key: BinaryInput): Hash;
  export function hmac(alg: HashAlgorithm | 'sha512-224' | 'sha512-256', key: BinaryInput, data: BinaryInput, encoding: DigestEncoding): string;
  export function hmac(alg: HashAlgorithm | 'sha512-224' | 'sha512-256', key: BinaryInput, data: BinaryInput): ArrayBuffer;

  export function md5(data: BinaryInput, encoding: DigestEncoding): string;
  export function md5(data: BinaryInput): ArrayBuffer;
  export function sha1(data: BinaryInput, encoding: DigestEncoding): string;
  export function sha1(data: BinaryInput): ArrayBuffer;
  export function sha256(data: BinaryInput, encoding: DigestEncoding): string;
  export function sha256(data: BinaryInput): ArrayBuffer;
  export function sha384(data: BinaryInput, encoding: DigestEncoding): string;
  export function sha384(data: BinaryInput): ArrayBuffer;
  export function sha512(data: BinaryInput, encoding: DigestEncoding): string;
  export function sha512(data: BinaryInput): ArrayBuffer;
  export function sha512_224(data: BinaryInput, encoding: DigestEncoding): string;
  export function sha512_224(data: BinaryInput): ArrayBuffer;
  export function sha512_256(data: BinaryInput, encoding: DigestEncoding): string;
  export function sha512_256(data: BinaryInput): ArrayBuffer;

  /** the algorithm names createHash accepts */
  export function getHashes(): HashAlgorithm[];
  /** `n` cryptographically random bytes, 1 ≤ n ≤ 1048576 */
  export function randomBytes(n: number): ArrayBuffer;
  /** a random integer in [0, max) */
  export function randomInt(max: number): number;
  /** a random integer in [min, max) */
  export function randomInt(min: number, max: number): number;
  /** a version 4 UUID */
  export function randomUUID(): string;
  /** lowercase hex of a string's UTF-8 bytes or of binary data */
  export function hexEncode(data: BinaryInput): string;
}

declare module 'dgate/state' {
  /** a collection as configured through the admin API */
  export interface Collection {
    name: string;
    namespace: string;
    /** the JSON Schema every document's data must satisfy ({} = anything) */
    schema: Record<string, unknown>;
    visibility: 'public' | 'private';
    type: 'document' | 'fetcher';
    tags?: string[];
  }

  export interface Document<T = unknown> {
    id: string;
    namespace: string;
    collection: string;
    data: T;
    /** ISO 8601 time of the first write */
    createdAt: string;
    /** ISO 8601 time of the last write */
    updatedAt: string;
  }

  /**
   * Everything here reads and writes the module's own namespace only, and returns a Promise.
   * Failures reject with an Error whose `message` is the gateway's and whose `code` is its
   * DG_ERR_* code (e.g. DG_ERR_DOCUMENT_INVALID when data fails the collection's schema,
   * DG_ERR_NOT_FOUND for a missing collection or document).
   *
   * Collections are configuration: they are created and deleted through the admin API, not
   * from modules. Documents of `private` collections are readable here (private only hides
   * them from the admin API).
   */
  export function getCollection(name: string): Promise<Collection | null>;
  /** null when there is no such document; rejects when the collection does not exist. Note the order: id first. */
  export function getDocument<T = unknown>(id: string, collection: string): Promise<Document<T> | null>;
  /** a page of the collection's documents sorted by id; limit 0-1000 (default 100), offset default 0 */
  export function getDocuments<T = unknown>(query: { collection: string; limit?: number; offset?: number }): Promise<Document<T>[]>;
  /**
   * Creates or replaces a document (a replacement keeps createdAt) once `data` (JSON: dates
   * become strings, undefined fields are dropped) satisfies the collection's schema; resolves
   * with the stored document once the change is live. `namespace`, if given, must be the
   * module's own.
   */
  export function addDocument<T = unknown>(doc: { id: string; collection: string; data: T; namespace?: string }): Promise<Document<T>>;
  /** rejects with `document not found: <id>` when there is none */
  export function deleteDocument(doc: { id: string; collection: string }): Promise<void>;
}

declare module 'dgate/storage' {
  /**
   * A cache shared by the modules of the namespace, in this process's memory only: not
   * persisted, not replicated (each worker process and each node has its own), empty after a
   * restart, at most 10,000 entries (the entry written longest ago is evicted first). Values
   * are copied with structuredClone when stored and when read.
   */
  export function setCache(key: string, value: unknown, options?: {
    /** seconds until the entry expires (> 0, fractions allowed); absent = until evicted */
    ttl?: number;
  }): void;
  /** the stored value, or null when missing or expired */
  export function getCache<T = unknown>(key: string): T | null;
  /** true when there was an entry */
  export function deleteCache(key: string): boolean;
}

declare module 'dgate/secrets' {
  /**
   * The plain text of a secret of the module's namespace, or null. Secrets stay write-only
   * through the admin API: the modules of the same namespace are the only readers, so any of
   * them can read every secret of its namespace.
   */
  export function getSecret(name: string): string | null;
  export function hasSecret(name: string): boolean;
}

declare module 'dgate' {
  /**
   * A Promise resolved after `duration`: a number of seconds (fractions allowed: 0.5 = 500 ms)
   * or a duration string ("30ms", "1.5s", "1m"). Use `await sleep(…)`: it never blocks other
   * requests. Negative or malformed durations reject.
   */
  export function sleep(duration: number | string): Promise<void>;
  /** the same as sleep */
  export function asyncSleep(duration: number | string): Promise<void>;
  /** throws `new Error(message)` */
  export function fail(message: string): never;
  /**
   * Calls `fn` (with the attempt number, from 1) up to `times` times until it does not throw
   * or reject; resolves with its result, or rejects with the last error. `delay` (seconds or a
   * duration string) is waited between attempts.
   */
  export function retry<T>(times: number, fn: (attempt: number) => T | Promise<T>, options?: { delay?: number | string }): Promise<T>;

  export * as http from 'dgate/http';
  export * as crypto from 'dgate/crypto';
  export * as state from 'dgate/state';
  export * as storage from 'dgate/storage';
  export * as util from 'dgate/util';
  export * as secrets from 'dgate/secrets';
}

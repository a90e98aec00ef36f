/**
 * The `ctx` object every module function receives, for the editors of module authors:
 *
 *   import type { Context } from 'dgate';
 *   export async function responseModifier(ctx: Context) { ... }
 *
 * Hand-written: keep in step with src/modules/ctx/*.ts.
 */
declare module 'dgate' {
  /** Headers: case-insensitive names, several values per name. */
  export interface HeaderMap {
    /** first value, or null */
    get(name: string): string | null;
    values(name: string): string[];
    has(name: string): boolean;
    set(name: string, value: string | number): this;
    add(name: string, value: string | number): this;
    del(name: string): this;
    delete(name: string): this;
    clone(): HeaderMap;
    keys(): string[];
    toJSON(): Record<string, string[]>;
  }

  /** The query string. */
  export interface QueryMap {
    get(name: string): string | null;
    values(name: string): string[];
    has(name: string): boolean;
    set(name: string, value: string | number): this;
    add(name: string, value: string | number): this;
    del(name: string): this;
    delete(name: string): this;
    /** the query string without "?" */
    encode(): string;
    toJSON(): Record<string, string[]>;
  }

  export type BodyInput = string | ArrayBuffer | ArrayBufferView;

  /** ctx.request(): the client's request; changes made before the upstream call are what the upstream receives. */
  export interface ModuleRequest {
    /** may be changed (e.g. to "POST") before the upstream call */
    method: string;
    /** request path, without the query */
    readonly path: string;
    /** path and query as received */
    readonly url: string;
    readonly headers: HeaderMap;
    readonly query: QueryMap;
    /** Host header, with port */
    readonly host: string;
    /** client IP (socket peer) */
    readonly remoteAddress: string;
    /** e.g. "HTTP/1.1" */
    readonly proto: string;
    /** -1 when unknown */
    readonly contentLength: number;
    /** the whole body (read once; still sent upstream unless replaced) */
    readBody(): Promise<ArrayBuffer>;
    readText(): Promise<string>;
    readJson<T = unknown>(): Promise<T>;
    /** replaces the body sent upstream */
    writeBody(data: BodyInput): void;
    /** replaces the body sent upstream with JSON (and sets Content-Type) */
    writeJson(value: unknown): void;
  }

  export interface CookieOptions {
    domain?: string;
    path?: string;
    expires?: Date | string | number;
    maxAge?: number;
    httpOnly?: boolean;
    secure?: boolean;
    sameSite?: 'lax' | 'strict' | 'none';
  }

  /**
   * ctx.response(): the gateway's answer to the client, written by module code. Writing answers
   * the request: in requestModifier the upstream is then not called; in responseModifier it
   * replaces the upstream's answer. Headers set here are added to a proxied answer too.
   */
  export interface ModuleResponse {
    readonly headers: HeaderMap;
    readonly headersSent: boolean;
    readonly statusCode: number;
    /** free space for module code, per request */
    readonly locals: Record<string, unknown>;
    /** sets the status of the answer (default 200) */
    status(code: number): this;
    /** sends JSON (Content-Type application/json); further calls append */
    json(value: unknown): this;
    /** sends a body; further calls append */
    send(data: BodyInput): this;
    write(data: BodyInput): this;
    /** sends an optional last chunk and ends the answer */
    end(data?: BodyInput): this;
    /** 307 to url (relative URLs resolve against the request) */
    redirect(url: string): this;
    /** 301 to url */
    redirectPermanent(url: string): this;
    location(url: string): this;
    /** adds a Set-Cookie header (Path defaults to "/") */
    cookie(name: string, value: string, options?: CookieOptions): this;
    /** the request's cookies */
    getCookies(): Record<string, string>;
    getCookie(name: string): string | null;
  }

  /** ctx.upstream() inside responseModifier: the upstream's answer before it reaches the client. */
  export interface UpstreamResponse {
    readonly headers: HeaderMap;
    statusCode: number;
    statusText: string;
    readonly contentLength: number;
    /** the whole body (still sent to the client unless replaced) */
    readBody(): Promise<ArrayBuffer>;
    readText(): Promise<string>;
    readJson<T = unknown>(): Promise<T>;
    writeBody(data: BodyInput): this;
    writeJson(value: unknown): this;
    status(code: number): this;
    redirect(url: string): this;
    redirectPermanent(url: string): this;
    /** the query sent upstream */
    query(): QueryMap;
    /** cookies the upstream set (name → value) */
    cookie(): Record<string, string>;
  }

  export interface RouteInfo {
    name: string;
    namespace: string;
    paths: string[];
    methods: string[];
    preserveHost: boolean;
    stripPath: boolean;
    service?: string;
    modules?: string[];
    tags?: string[];
  }
  export interface ServiceInfo {
    name: string;
    namespace: string;
    urls: string[];
    retries: number;
    retryTimeout: number;
    connectTimeout: number;
    requestTimeout: number;
    tlsSkipVerify: boolean;
    http2Only: boolean;
    hideDGateHeaders: boolean;
    disableQueryParams: boolean;
    tags?: string[];
  }
  export interface NamespaceInfo {
    name: string;
    tags?: string[];
  }

  /** One per request, shared by every module function of that request. */
  export interface Context {
    readonly id: string;
    request(): ModuleRequest;
    response(): ModuleResponse;
    /** the upstream's answer, inside responseModifier; null elsewhere */
    upstream(): UpstreamResponse | null;
    /** route params, e.g. { id: "42" } for /users/{id}; "*" for a trailing wildcard */
    pathParams(): Record<string, string>;
    /** one route param, "" when absent */
    pathParam(name: string): string;
    query(): QueryMap;
    route(): Readonly<RouteInfo>;
    service(): Readonly<ServiceInfo> | null;
    namespace(): Readonly<NamespaceInfo>;
    /** request-scoped values shared between the module functions of this request */
    set(key: string, value: unknown): this;
    get<T = unknown>(key: string): T | undefined;
  }

  /** The functions a module may export. */
  export type FetchUpstream = (ctx: Context) => string | Promise<string>;
  export type RequestModifier = (ctx: Context) => void | Promise<void>;
  export type ResponseModifier = (ctx: Context) => void | Promise<void>;
  export type ErrorHandler = (ctx: Context, error: Error) => void | Promise<void>;
  export type RequestHandler = (ctx: Context) => void | Promise<void>;
}

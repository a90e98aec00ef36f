import type { ProxyRequest, ProxyResponse } from '../../platform/exchange.js';
import { answerId } from '../../observability/request-id.js';
import { ModuleRequest } from './request.js';
import { ModuleResponse } from './response.js';
import type { UpstreamResponse } from './upstream.js';

/** Plain objects describing the route, service and namespace to module code (clean field names). */
export interface ContextInfo {
  readonly route: Readonly<Record<string, unknown>>;
  readonly service: Readonly<Record<string, unknown>> | null;
  readonly namespace: Readonly<Record<string, unknown>>;
}

const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
let counter = 0;

/**
 * `ctx`: one object per request, shared by every module function of that request (DGate §4.4).
 * Parts are created on first use.
 */
export class ModuleContext {
  readonly #req: ProxyRequest;
  readonly #res: ProxyResponse;
  readonly #path: string;
  readonly #query: string;
  readonly #params: Record<string, string> | null;
  readonly #info: ContextInfo;
  #id: string | null = null;
  #request: ModuleRequest | null = null;
  #response: ModuleResponse | null = null;
  #values: Map<string, unknown> | null = null;
  /** set by the gateway while responseModifier runs */
  upstreamResponse: UpstreamResponse | null = null;

  constructor(req: ProxyRequest, res: ProxyResponse, path: string, query: string, params: Record<string, string> | null, info: ContextInfo) {
    this.#req = req;
    this.#res = res;
    this.#path = path;
    this.#query = query;
    this.#params = params;
    this.#info = info;
  }

  /**
   * The X-Request-Id of the request behind a hook's `ctx` (null when absent, or not a ctx).
   * Static, so it adds nothing to the ctx API module code sees. Cut at 200 characters: the
   * value comes from the client and ends up in kept log lines.
   */
  static requestIdOf(ctx: unknown): string | null {
    if (!(ctx instanceof ModuleContext)) return null;
    const v = ctx.#req.headers['x-request-id'];
    if (typeof v !== 'string' || v === '') return null;
    return v.length > 200 ? v.slice(0, 200) : v;
  }

  /** the request's X-Request-Id (proxy.request_id), else an id made for module code */
  get id(): string {
    if (this.#id === null) this.#id = answerId(this.#res) ?? `${Date.now().toString(36)}-${process.pid.toString(36)}-${(counter++).toString(36)}`;
    return this.#id;
  }
  request(): ModuleRequest {
    if (this.#request === null) this.#request = new ModuleRequest(this.#req, this.#res, this.#path, this.#query);
    return this.#request;
  }
  /** the request object if module code used it, else null */
  get touchedRequest(): ModuleRequest | null {
    return this.#request;
  }
  response(): ModuleResponse {
    if (this.#response === null) this.#response = new ModuleResponse(this.#req, this.#res);
    return this.#response;
  }
  get touchedResponse(): ModuleResponse | null {
    return this.#response;
  }
  /** true once module code wrote an answer to the client */
  get answered(): boolean {
    return this.#response !== null && this.#response.started;
  }
  upstream(): UpstreamResponse | null {
    return this.upstreamResponse;
  }
  pathParams(): Record<string, string> {
    return { ...(this.#params ?? EMPTY_PARAMS) };
  }
  pathParam(name: string): string {
    return this.#params?.[name] ?? '';
  }
  query() {
    return this.request().query;
  }
  route(): Readonly<Record<string, unknown>> {
    return this.#info.route;
  }
  service(): Readonly<Record<string, unknown>> | null {
    return this.#info.service;
  }
  namespace(): Readonly<Record<string, unknown>> {
    return this.#info.namespace;
  }
  /** request-scoped values shared between module functions */
  set(key: string, value: unknown): this {
    (this.#values ??= new Map()).set(key, value);
    return this;
  }
  get(key: string): unknown {
    return this.#values?.get(key);
  }
}

import { AdminApiError, AdminConnectionError, AdminRedirectError, AdminWaitTimeoutError } from './errors.js';
import type { AdminAuth, Changelog, ClusterNode, ClusterView, Document, DocumentPage, ItemOf, ModuleLogLine, ModuleLogPage, ModuleLogQuery, RequestRecord, ResourceInput, ResourceKind, StatsQuery, StatsReport } from './types.js';

export interface AdminClientOptions {
  /** e.g. "http://localhost:9080"; a path prefix is kept ("https://gw.example.com/admin") */
  baseUrl: string;
  auth?: AdminAuth;
  /** follow 3xx answers (a clustered DGate redirects writes to its leader); default false */
  followRedirects?: boolean;
  /** called once per HTTP exchange, redirects included (dgate-cli -V prints these) */
  onRequest?: (record: RequestRecord) => void;
}

/** Redirect hops followed before giving up. */
const MAX_REDIRECTS = 10;
/** The server's largest page of documents. */
const MAX_PAGE = 1000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

type Query = Record<string, string | number | undefined>;

/**
 * A typed client for the admin API (`/api/v1`), on `fetch`. Every method resolves with the
 * answer's `data`, and rejects with AdminApiError (an error status, carrying the server's
 * message), AdminConnectionError (nothing answered) or AdminRedirectError (a 3xx while
 * `followRedirects` is off).
 *
 * `namespace` arguments may be left out: the server then uses its default namespace (or
 * answers 400 when `disable_default_namespace` is set).
 */
export class AdminClient {
  readonly baseUrl: string;
  readonly #headers: Record<string, string>;
  readonly #follow: boolean;
  readonly #onRequest: ((record: RequestRecord) => void) | undefined;
  #lastRevision: number | null = null;

  constructor(options: AdminClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#headers = { Accept: 'application/json', ...authHeaders(options.auth) };
    this.#follow = options.followRedirects ?? false;
    this.#onRequest = options.onRequest;
  }

  /** Creates or fully replaces an item; resolves with the item as stored. */
  async put<K extends ResourceKind>(kind: K, item: ResourceInput<K>): Promise<ItemOf[K]> {
    return (await this.#call('PUT', `/api/v1/${kind}`, {}, item)) as ItemOf[K];
  }

  async get<K extends ResourceKind>(kind: K, name: string, namespace?: string): Promise<ItemOf[K]> {
    return (await this.#call('GET', `/api/v1/${kind}/${enc(name)}`, namespaceQuery(kind, namespace))) as ItemOf[K];
  }

  /** The items of one namespace (every namespace for `namespace`), sorted by name. */
  async list<K extends ResourceKind>(kind: K, namespace?: string): Promise<Array<ItemOf[K]>> {
    return (await this.#call('GET', `/api/v1/${kind}`, namespaceQuery(kind, namespace))) as Array<ItemOf[K]>;
  }

  async delete(kind: ResourceKind, name: string, namespace?: string): Promise<void> {
    await this.#call('DELETE', `/api/v1/${kind}/${enc(name)}`, namespaceQuery(kind, namespace));
  }

  /** Creates or replaces a document; `data` (any JSON) is checked against the collection's schema. */
  async putDocument(doc: { id: string; collection: string; namespace?: string; data: unknown }): Promise<Document> {
    const query = { namespace: doc.namespace, collection: doc.collection };
    return (await this.#call('PUT', `/api/v1/document/${enc(doc.id)}`, query, doc.data)) as Document;
  }

  async getDocument(id: string, collection: string, namespace?: string): Promise<Document> {
    return (await this.#call('GET', `/api/v1/document/${enc(id)}`, { namespace, collection })) as Document;
  }

  /** One page of a collection's documents, sorted by id (the server's default page is 100, its maximum 1000). */
  async listDocuments(collection: string, options: { namespace?: string; limit?: number; offset?: number } = {}): Promise<DocumentPage> {
    const query = { namespace: options.namespace, collection, limit: options.limit, offset: options.offset };
    const body = (await this.#call('GET', '/api/v1/document', query, undefined, true)) as Record<string, unknown>;
    return {
      documents: body.data as Document[],
      total: body.total as number,
      limit: body.limit as number,
      offset: body.offset as number,
    };
  }

  /** Every document of a collection, sorted by id, fetched page after page. */
  async allDocuments(collection: string, namespace?: string): Promise<Document[]> {
    const out: Document[] = [];
    for (;;) {
      const page = await this.listDocuments(collection, { namespace, limit: MAX_PAGE, offset: out.length });
      out.push(...page.documents);
      if (page.documents.length === 0 || out.length >= page.total) return out;
    }
  }

  async deleteDocument(id: string, collection: string, namespace?: string): Promise<void> {
    await this.#call('DELETE', `/api/v1/document/${enc(id)}`, { namespace, collection });
  }

  /** Deletes every document of a collection, in one change. */
  async deleteAllDocuments(collection: string, namespace?: string): Promise<void> {
    await this.#call('DELETE', '/api/v1/document', { namespace, collection });
  }

  async changelog(): Promise<Changelog> {
    return (await this.#call('GET', '/changelog', {}, undefined, true)) as Changelog;
  }

  /**
   * The highest `X-DGate-Revision` of the writes this client made (null before the first): once
   * every node has applied it, every change made through this client is live everywhere.
   */
  get lastRevision(): number | null {
    return this.#lastRevision;
  }

  /** The live nodes of the gateway (one for a gateway on its own), sorted by id, with their applied revision. */
  async cluster(): Promise<ClusterView> {
    const body = (await this.#call('GET', '/api/v1/cluster', {}, undefined, true)) as Record<string, unknown>;
    return { nodes: body.data as ClusterNode[], node: body.node as string, rev: body.rev as number };
  }

  /** Request and module stats over the last 1 min, 5 min and 1 h (GET /api/v1/stats), filtered. */
  async stats(query: StatsQuery = {}): Promise<StatsReport> {
    return (await this.#call('GET', '/api/v1/stats', { ...query }, undefined, true)) as StatsReport;
  }

  /**
   * Polls the cluster view until every listed node has applied `rev`; resolves with the nodes.
   * Rejects with AdminWaitTimeoutError naming the nodes still below it after `timeoutMs`
   * (a 503 answer, the cluster view briefly unreadable, is retried until then).
   */
  async waitForRevision(rev: number, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<ClusterNode[]> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const intervalMs = options.intervalMs ?? 100;
    const deadline = performance.now() + timeoutMs;
    let lagging: ClusterNode[] = [];
    for (;;) {
      // A node that cannot read the cluster view for a moment (503) is asked again.
      let unavailable: string | undefined;
      try {
        const { nodes } = await this.cluster();
        lagging = nodes.filter((n) => n.rev < rev);
        if (lagging.length === 0) return nodes;
      } catch (err) {
        if (!(err instanceof AdminApiError && err.status === 503)) throw err;
        unavailable = err.message;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new AdminWaitTimeoutError(rev, timeoutMs, lagging, unavailable);
      await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
    }
  }

  /** Module log lines of the node this client talks to (`GET /api/v1/logs`), oldest first. */
  async logs(query: ModuleLogQuery = {}): Promise<ModuleLogPage> {
    const body = (await this.#call('GET', '/api/v1/logs', { ...query }, undefined, true)) as Record<string, unknown>;
    return { lines: body.data as ModuleLogLine[], dropped: body.dropped as ModuleLogPage['dropped'] };
  }

  /**
   * Follows the node's module log lines (server-sent events of `GET /api/v1/logs?follow=true`):
   * `onLine` gets the backlog (`limit` lines) and then every new line as it is logged. Resolves
   * when `signal` aborts (true) or the server ends the stream (false); rejects like the other
   * calls when the server refuses (AdminApiError) or cannot be reached.
   */
  async followLogs(query: ModuleLogQuery, onLine: (line: ModuleLogLine) => void, signal?: AbortSignal): Promise<boolean> {
    const url = this.baseUrl + '/api/v1/logs' + queryString({ ...query, follow: 'true' });
    const started = performance.now();
    let res: Response;
    try {
      res = await fetch(url, { headers: { ...this.#headers, Accept: 'text/event-stream' }, redirect: 'manual', signal });
    } catch (err) {
      this.#report('GET', url, null, started);
      if (signal?.aborted === true) return true;
      throw new AdminConnectionError(this.baseUrl, failureReason(err), err);
    }
    this.#report('GET', url, res.status, started);
    if (res.status >= 300 || res.body === null) {
      const text = await res.text().catch(() => '');
      const json = parseJson(text);
      const error = json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : {};
      if (REDIRECT_STATUSES.has(res.status)) throw new AdminRedirectError(res.status, res.headers.get('location'));
      const message = typeof error.error === 'string' ? error.error : text.trim() || res.statusText || 'no message';
      throw new AdminApiError({ status: res.status, serverMessage: message, code: typeof error.code === 'string' ? error.code : undefined, method: 'GET', url });
    }
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        pending += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const data = sseData(pending.slice(0, end));
          pending = pending.slice(end + 2);
          if (data !== null) onLine(JSON.parse(data) as ModuleLogLine);
        }
      }
    } catch (err) {
      if (signal?.aborted === true) return true;
      throw new AdminConnectionError(this.baseUrl, failureReason(err), err);
    }
    return signal?.aborted === true;
  }

  /**
   * One API call: the answer's `data` (or the whole JSON body when `whole`), following
   * redirects when asked to. Each hop is reported to onRequest.
   */
  async #call(method: string, path: string, query: Query, body?: unknown, whole = false): Promise<unknown> {
    let url = this.baseUrl + path + queryString(query);
    const headers = { ...this.#headers };
    let payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['Content-Type'] = 'application/json';

    for (let hop = 0; ; hop++) {
      const started = performance.now();
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body: payload, redirect: 'manual' });
      } catch (err) {
        this.#report(method, url, null, started);
        throw new AdminConnectionError(this.baseUrl, failureReason(err), err);
      }
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        this.#report(method, url, res.status, started);
        throw new AdminConnectionError(this.baseUrl, failureReason(err), err);
      }
      this.#report(method, url, res.status, started);

      if (REDIRECT_STATUSES.has(res.status)) {
        const location = res.headers.get('location');
        if (!this.#follow || location === null) throw new AdminRedirectError(res.status, location);
        if (hop + 1 >= MAX_REDIRECTS) throw new AdminRedirectError(res.status, location, `more than ${MAX_REDIRECTS} redirects from server`);
        // DGate's leader redirect is scheme-relative ("//leader:9080/api/v1/…"): resolve against the current URL.
        // Credentials go along: the leader is another node of the same gateway.
        url = new URL(location, url).toString();
        if (res.status === 303) {
          method = 'GET';
          payload = undefined;
          delete headers['Content-Type'];
        }
        continue;
      }
      const json = parseJson(text);
      if (res.status >= 400) {
        const error = json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : {};
        const message = typeof error.error === 'string' ? error.error : text.trim() || res.statusText || 'no message';
        throw new AdminApiError({ status: res.status, serverMessage: message, code: typeof error.code === 'string' ? error.code : undefined, method, url });
      }
      const revision = Number(res.headers.get('x-dgate-revision') ?? Number.NaN);
      if (Number.isSafeInteger(revision)) this.#lastRevision = Math.max(this.#lastRevision ?? 0, revision);
      if (whole) return json;
      return json !== null && typeof json === 'object' ? (json as Record<string, unknown>).data : undefined;
    }
  }

  #report(method: string, url: string, status: number | null, started: number): void {
    this.#onRequest?.({ method, url, status, durationMs: performance.now() - started });
  }
}

function authHeaders(auth: AdminAuth | undefined): Record<string, string> {
  if (auth === undefined) return {};
  if ('key' in auth) return { [auth.header ?? 'X-DGate-Key']: auth.key };
  return { Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}` };
}

/** Namespaces are addressed by their own name: their endpoints take no namespace parameter. */
function namespaceQuery(kind: ResourceKind, namespace: string | undefined): Query {
  return kind === 'namespace' ? {} : { namespace };
}

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/** The data of one server-sent event (its `data:` lines joined), null for a comment or a field-only event. */
function sseData(event: string): string | null {
  const data: string[] = [];
  for (const line of event.split('\n')) {
    if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
  }
  return data.length === 0 ? null : data.join('\n');
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Why fetch failed, in the words of the system call: undici wraps it as `TypeError: fetch
 * failed` with the real error (sometimes an AggregateError, one per address tried) as cause.
 */
function failureReason(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause !== undefined && e.message === 'fetch failed') e = e.cause;
  if (e instanceof AggregateError && e.errors.length > 0) e = e.errors[0];
  // Bun's fetch: `ECONNREFUSED: Unable to connect…` with the code and the URL; said as Node says it
  const bun = e as { code?: unknown; path?: unknown; message?: unknown };
  if (e instanceof Error && typeof bun.code === 'string' && typeof bun.path === 'string' && e.message.startsWith(`${bun.code}:`)) {
    const host = URL.canParse(bun.path) ? new URL(bun.path).host : bun.path;
    return `${bun.code === 'ECONNREFUSED' ? 'connect' : 'read'} ${bun.code} ${host}`;
  }
  if (e instanceof Error) return e.message || (e as NodeJS.ErrnoException).code || e.name;
  return String(e);
}

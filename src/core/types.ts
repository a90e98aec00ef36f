/**
 * The resource kinds and their shapes, with DGate's JSON field names.
 * Durations are integer nanoseconds (DGate's wire format); validators also accept "50ms"-style strings.
 */
export const KINDS = ['namespace', 'domain', 'service', 'route', 'module', 'collection', 'document', 'secret'] as const;
export type Kind = (typeof KINDS)[number];

export interface Namespace {
  name: string;
  tags?: string[];
}

export interface Domain {
  name: string;
  namespace: string;
  patterns: string[];
  priority: number;
  cert?: string;
  key?: string;
  tags?: string[];
}

export interface Service {
  name: string;
  namespace: string;
  urls: string[];
  retries: number;
  /** nanoseconds */
  retryTimeout: number;
  /** nanoseconds, 0 = none */
  connectTimeout: number;
  /** nanoseconds, 0 = none */
  requestTimeout: number;
  tlsSkipVerify: boolean;
  http2Only: boolean;
  hideDGateHeaders: boolean;
  disableQueryParams: boolean;
  tags?: string[];
}

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'CONNECT', 'TRACE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface Route {
  name: string;
  namespace: string;
  paths: string[];
  /** HTTP methods, or ["*"] alone for every method */
  methods: string[];
  preserveHost: boolean;
  stripPath: boolean;
  /** request body limit of this route, bytes (0 = none); absent: proxy.max_body_bytes */
  maxBodyBytes?: number;
  service?: string;
  /** module names, in the order given (order is kept) */
  modules?: string[];
  tags?: string[];
}

export type ModuleType = 'typescript' | 'javascript';

export interface Module {
  name: string;
  namespace: string;
  /** standard base64 of the source text */
  payload: string;
  moduleType: ModuleType;
  tags?: string[];
}

export interface Collection {
  name: string;
  namespace: string;
  /** JSON Schema the documents' data must satisfy ({} = anything) */
  schema: Record<string, unknown>;
  visibility: 'public' | 'private';
  type: 'document' | 'fetcher';
  tags?: string[];
}

export interface Document {
  id: string;
  namespace: string;
  collection: string;
  data: unknown;
  createdAt: string;
  updatedAt: string;
}

export interface Secret {
  name: string;
  namespace: string;
  /** plain text; never returned by the admin API */
  data: string;
  tags?: string[];
}

export interface ItemOf {
  namespace: Namespace;
  domain: Domain;
  service: Service;
  route: Route;
  module: Module;
  collection: Collection;
  document: Document;
  secret: Secret;
}
export type Resource = ItemOf[Kind];

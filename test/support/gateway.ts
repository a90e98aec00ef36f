/**
 * Starts a real gateway (in this process, proxy served without worker processes unless asked)
 * on ports chosen by the OS, with helpers to drive its admin API and proxy over real HTTP.
 */
import { pino } from 'pino';
import { request } from './http.js';
import { buildConfig } from '../../src/config/load.js';
import { startGateway, type Gateway } from '../../src/main.js';

export interface ProxyAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = any>(): T;
}

export interface AdminAnswer {
  status: number;
  body: any;
}

export interface TestGateway {
  gateway: Gateway;
  proxyUrl: string;
  adminUrl: string;
  admin(method: string, path: string, body?: unknown): Promise<AdminAnswer>;
  /** PUT /api/v1/<kind>, failing the test unless it answers 201 */
  put(kind: string, body: Record<string, unknown>): Promise<any>;
  proxy(path: string, opts?: { method?: string; host?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<ProxyAnswer>;
  close(): Promise<void>;
}

function merge(a: any, b: any): any {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null || Array.isArray(b)) return b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : v;
  return out;
}

export async function startTestGateway(raw: Record<string, unknown> = {}): Promise<TestGateway> {
  const base = {
    storage: { type: 'memory' },
    proxy: { host: '127.0.0.1', port: 0, workers: 0 },
    admin: { host: '127.0.0.1', port: 0 },
  };
  const config = buildConfig(merge(base, raw));
  const gateway = await startGateway(config, pino({ level: 'silent' }));
  const proxyUrl = `http://127.0.0.1:${gateway.proxyPort}`;
  const adminUrl = `http://127.0.0.1:${gateway.adminPort}`;

  async function admin(method: string, path: string, body?: unknown): Promise<AdminAnswer> {
    const res = await request(adminUrl + path, {
      method: method as any,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: any = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      /* plain text answer */
    }
    return { status: res.statusCode, body: parsed };
  }

  return {
    gateway,
    proxyUrl,
    adminUrl,
    admin,
    async put(kind, body) {
      const res = await admin('PUT', `/api/v1/${kind}`, body);
      if (res.status !== 201) throw new Error(`PUT ${kind} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.data;
    },
    async proxy(path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.host !== undefined) headers.host = opts.host;
      const res = await request(proxyUrl + path, { method: (opts.method ?? 'GET') as any, headers, body: opts.body });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
    },
    close: () => gateway.close(),
  };
}

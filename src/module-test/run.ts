/**
 * Runs module code the way the gateway would, without a server to set up: an in-process
 * gateway (memory store, proxy in this process, ports chosen by the OS) gets the modules and a
 * route, through its admin API; the route gets a service pointing at a stub upstream (or a real
 * URL) unless a module answers by itself (requestHandler). The described request is sent
 * through its proxy. What comes back is what the gateway did: the upstream request as
 * modified, the answer sent, and the log lines (module console output and errors).
 * The gateway's own module runtime and built-ins run the code.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { request } from 'undici';
import { AdminApiError, AdminClient } from '../client/index.js';
import { buildConfig } from '../config/load.js';
import type { Module } from '../core/types.js';
import { startGateway } from '../main.js';
import type { UpstreamRequestInfo } from '../proxy/forward.js';
import { exportedHooks, planRoute } from './route-plan.js';
import { startStubUpstream, type StubAnswer } from './stub-upstream.js';

export interface ModuleSource {
  name: string;
  /** the module's source text */
  source: string;
  moduleType?: 'typescript' | 'javascript';
}

export interface ModuleTestInput {
  /** the route's modules, in route order */
  modules: ModuleSource[];
  route?: { paths?: string[]; methods?: string[]; stripPath?: boolean; preserveHost?: boolean };
  request?: { method?: string; path?: string; host?: string; headers?: Record<string, string>; body?: string };
  /**
   * The upstream: a stub answer ({status, headers, body}), a real URL ({url}), or null for a
   * route without a service. Left out: none when a module exports requestHandler (it answers by
   * itself), else a stub answering 200 "". A requestHandler always runs on a route without a
   * service: an upstream given then is not used (`notes` says so).
   */
  upstream?: StubAnswer | { url: string } | null;
  /** extra resources the modules need, in the admin API's shapes (namespace "default") */
  resources?: { collections?: Record<string, unknown>[]; documents?: Array<{ id: string; collection: string; data: unknown }>; secrets?: Record<string, unknown>[] };
  /** time budget of an asynchronous module function, e.g. "5s" */
  moduleTimeout?: string;
}

export interface ModuleTestResult {
  /** the request the gateway sent upstream, null when it made none */
  upstream: { url: string; method: string; headers: Record<string, string[]>; body: string | null } | null;
  response: { status: number; headers: Record<string, string | string[]>; body: string };
  /** gateway log lines of the run (module console output, module errors) */
  logs: Array<Record<string, unknown>>;
  /** hooks that could not run on this route and upstream input that was not used, in words */
  notes: string[];
}

/** The 400 the admin API gave for a module or route (compile or link error). */
export class ModuleTestSetupError extends Error {
  readonly status: number;
  constructor(what: string, status: number, message: string) {
    super(`${what}: ${message}`);
    this.status = status;
  }
}

function headerRecord(flat: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < flat.length; i += 2) (out[flat[i]] ??= []).push(flat[i + 1]);
  return out;
}

/** Runs an admin API call, turning its refusal into a ModuleTestSetupError naming what was refused. */
async function setUp<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AdminApiError) throw new ModuleTestSetupError(what, err.status, err.serverMessage);
    throw err;
  }
}

export async function runModuleTest(input: ModuleTestInput): Promise<ModuleTestResult> {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: 'debug', base: null, timestamp: false, formatters: { level: (label) => ({ level: label }) } }, sink);
  const seen: UpstreamRequestInfo[] = [];
  const config = buildConfig({
    log_level: 'debug',
    storage: { type: 'memory' },
    proxy: { host: '127.0.0.1', port: 0, workers: 0, module_timeout: input.moduleTimeout ?? '30s', module_watchdog: 0 },
    admin: { host: '127.0.0.1', port: 0 },
  });
  const gateway = await startGateway(config, logger, { onUpstreamRequest: (r) => seen.push(r) });
  let stub: Awaited<ReturnType<typeof startStubUpstream>> | null = null;
  try {
    const admin = new AdminClient({ baseUrl: `http://127.0.0.1:${gateway.adminPort}` });
    for (const c of input.resources?.collections ?? []) await setUp(`collection ${String(c.name)}`, () => admin.put('collection', c as { name: string }));
    for (const d of input.resources?.documents ?? []) await setUp(`document ${d.id}`, () => admin.putDocument(d));
    for (const s of input.resources?.secrets ?? []) await setUp(`secret ${String(s.name)}`, () => admin.put('secret', s as { name: string }));
    const modules: Module[] = [];
    for (const m of input.modules) {
      const module: Module = { name: m.name, namespace: 'default', moduleType: m.moduleType ?? 'typescript', payload: Buffer.from(m.source, 'utf8').toString('base64') };
      await setUp(`module ${m.name}`, () => admin.put('module', module));
      modules.push(module);
    }
    const plan = planRoute(exportedHooks(modules) ?? {}, input.upstream);
    stub = plan.upstream !== null && !('url' in plan.upstream) ? await startStubUpstream(plan.upstream) : null;
    const upstreamUrl = stub?.url ?? (plan.upstream !== null && 'url' in plan.upstream ? plan.upstream.url : null);
    if (upstreamUrl !== null) await setUp('service', () => admin.put('service', { name: 'upstream', urls: [upstreamUrl], retries: 0 }));
    const r = input.route ?? {};
    await setUp('route', () =>
      admin.put('route', {
        name: 'module-test',
        paths: r.paths ?? ['/', '/*'],
        methods: r.methods ?? ['*'],
        stripPath: r.stripPath ?? false,
        preserveHost: r.preserveHost ?? false,
        modules: input.modules.map((m) => m.name),
        ...(upstreamUrl !== null ? { service: 'upstream' } : {}),
      }),
    );
    const q = input.request ?? {};
    const headers: Record<string, string> = { ...(q.headers ?? {}) };
    if (q.host !== undefined) headers.host = q.host;
    const res = await request(`http://127.0.0.1:${gateway.proxyPort}${q.path ?? '/'}`, { method: (q.method ?? 'GET') as 'GET', headers, body: q.body });
    const body = await res.body.text();
    const sent = seen[0];
    const received = stub?.received[0];
    return {
      upstream:
        sent === undefined
          ? null
          : { url: sent.origin + sent.path, method: sent.method, headers: received?.headers ?? headerRecord(sent.headers), body: received?.body ?? null },
      response: { status: res.statusCode, headers: res.headers as Record<string, string | string[]>, body },
      logs: logs.filter((l) => l.source === 'module'),
      notes: plan.notes,
    };
  } finally {
    await gateway.close();
    await stub?.close();
  }
}

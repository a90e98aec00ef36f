import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { MemoryStore } from '../store/memory.js';
import { Syncer } from '../sync/syncer.js';
import { ChangeWriter } from '../sync/writer.js';
import { LocalMembership } from '../cluster/local.js';
import type { AdminOptions } from './app.js';
import { createAdminServer } from './app.js';

/** A test admin server on port 0 over a MemoryStore; shared by the admin test files. */
export interface AdminHarness {
  url: string;
  writer: ChangeWriter;
  store: MemoryStore;
  server: Server;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** the revision /changelog reports */
  rev(): Promise<number>;
  /** PUTs each body to /api/v1/<kind>, failing the test if one is refused */
  seed(...items: Array<[kind: string, body: unknown]>): Promise<void>;
  close(): Promise<void>;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** the parsed body, when it is JSON */
  json: any;
}

export const FIXED_NOW = new Date('2024-05-01T12:00:00.000Z');

export async function startAdmin(overrides: Partial<AdminOptions> = {}): Promise<AdminHarness> {
  // The default namespace exists at start, before the first revision (the gateway writes it at start-up).
  const store = new MemoryStore({
    items: overrides.defaultNamespace === false ? [] : [{ kind: 'namespace', namespace: 'default', name: 'default', item: { name: 'default', tags: ['default'] } }],
  });
  const syncer = new Syncer(store);
  await syncer.start();
  const writer = new ChangeWriter(store, syncer);
  const server = createAdminServer({
    writer,
    history: (from, limit) => store.history(from, limit),
    ready: () => true,
    version: 'test',
    defaultNamespace: true,
    allowList: [],
    xForwardedForDepth: -1,
    authMethod: 'none',
    basicUsers: [],
    keyAuth: { keys: [] },
    now: () => FIXED_NOW,
    cluster: new LocalMembership({ id: 'test-node', address: 'http://127.0.0.1:9080', tags: ['t1'], version: 'test', watchOnly: overrides.watchOnly === true }, () => writer.state.rev, () => FIXED_NOW),
    ...overrides,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call: AdminHarness['call'] = async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(url + path, init);
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };

  return {
    url,
    writer,
    store,
    server,
    call,
    async rev() {
      return (await call('GET', '/changelog')).json.rev;
    },
    async seed(...items) {
      for (const [kind, body] of items) {
        const r = await call('PUT', `/api/v1/${kind}`, body);
        if (r.status !== 201) throw new Error(`seeding ${kind} failed: ${r.status} ${r.text}`);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }).then(() => syncer.close()),
  };
}

/** base64 of a module's source text */
export function b64(source: string): string {
  return Buffer.from(source, 'utf8').toString('base64');
}

/**
 * Gateway nodes of one cluster: real `dgate-server` processes sharing a real etcd (see
 * etcd-cluster.ts), each with its own local directory (its last-known-good snapshot), its own
 * proxy and admin ports. Helpers to write through one node and wait until others serve it.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { request } from './http.js';
import { startServerProcess, stop, tempDir, type ServerProcess } from './server-process.js';

const run = promisify(execFile);

export interface NodeSpec {
  id: string;
  endpoints: readonly string[];
  prefix: string;
  /** the node's own directory (kept across restarts of the node) */
  dir?: string;
  workers?: number;
  /** more YAML, appended at the top level (e.g. `admin:` keys go in `adminExtra`) */
  extra?: string;
  adminExtra?: string;
  storageExtra?: string;
  proxyExtra?: string;
  waitReady?: boolean;
}

export interface ClusterNode extends ServerProcess {
  readonly id: string;
  readonly spec: NodeSpec;
}

export function nodeYaml(spec: NodeSpec, ports: { proxy: number; admin: number; dir: string }): string {
  return `
log_level: warn
node_id: ${spec.id}
storage:
  type: etcd
  endpoints: [${spec.endpoints.map((e) => JSON.stringify(e)).join(', ')}]
  prefix: ${JSON.stringify(spec.prefix)}
  dir: ${ports.dir}/data
${spec.storageExtra ?? ''}
proxy:
  host: 127.0.0.1
  port: ${ports.proxy}
  workers: ${spec.workers ?? 0}
${spec.proxyExtra ?? ''}
admin:
  host: 127.0.0.1
  port: ${ports.admin}
${spec.adminExtra ?? ''}
${spec.extra ?? ''}
`;
}

/** Starts one node (a new directory unless spec.dir is given) and waits until it is ready. */
export async function startNode(spec: NodeSpec): Promise<ClusterNode> {
  const dir = spec.dir ?? tempDir('dgate-node-');
  const proc = await startServerProcess({ dir, yaml: (ports) => nodeYaml(spec, ports), waitReady: spec.waitReady });
  return Object.assign(proc, { id: spec.id, spec: { ...spec, dir } });
}

export async function stopNode(node: ClusterNode, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await stop(node, signal);
}

export interface Answer {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export async function admin(node: { adminUrl: string }, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await request(node.adminUrl + path, {
    method: method as 'GET',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await res.body.text();
  let parsed: any = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    /* plain text */
  }
  return { status: res.statusCode, body: parsed, headers: res.headers };
}

/** PUT /api/v1/<kind> through a node; throws unless 201. */
export async function put(node: { adminUrl: string }, kind: string, body: Record<string, unknown>): Promise<Answer> {
  const res = await admin(node, 'PUT', `/api/v1/${kind}`, body);
  if (res.status !== 201) throw new Error(`PUT ${kind} on ${node.adminUrl} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res;
}

export async function proxyGet(node: { proxyUrl: string }, path: string, host: string): Promise<{ status: number; text: string }> {
  const res = await request(node.proxyUrl + path, { headers: { host }, headersTimeout: 10_000, bodyTimeout: 10_000 });
  return { status: res.statusCode, text: await res.body.text() };
}

/** Polls `check` until it returns true or the deadline passes (then throws with `what`). */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const start = Date.now();
  let lastError: unknown = null;
  for (;;) {
    try {
      if (await check()) return Date.now() - start;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - start > timeoutMs) throw new Error(`not true after ${timeoutMs} ms: ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The revision a node serves (X-DGate-ChangeHash of GET /). */
export async function revOf(node: { adminUrl: string }): Promise<number> {
  const res = await admin(node, 'GET', '/');
  return Number(res.headers['x-dgate-changehash']);
}

/** An upstream on a free loopback port answering 200 with `name` in the body. */
export async function startUpstream(name: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${name} ${req.url}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** `etcdctl` against the given endpoints (asynchronous: servers of this process keep answering). */
export async function etcdctl(endpoints: readonly string[], ...args: string[]): Promise<string> {
  const { stdout } = await run('etcdctl', ['--endpoints', endpoints.join(','), ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
  return stdout;
}

/** A fresh key prefix per test, so tests sharing one etcd never see each other. */
export function freshPrefix(label: string): string {
  return `/dgate-test/${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}/`;
}

import type { Change } from '../core/change.js';
import { Errors } from '../core/errors.js';
import type { State } from '../core/state.js';
import type { ChangeWriter } from '../sync/writer.js';
import type { AdminRequest } from './request.js';

export interface AdminLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What resource handlers need from the server: state, the write path, and a few settings. */
export interface AdminContext {
  writer: ChangeWriter;
  ready: () => boolean;
  /** false when `disable_default_namespace` is set */
  defaultNamespace: boolean;
  now: () => Date;
  logger: AdminLogger | undefined;
}

export const DEFAULT_NAMESPACE = 'default';

/** The namespace used when a body or query names none: "default", or none when it is disabled. */
export function fallbackNamespace(ctx: AdminContext): string | undefined {
  return ctx.defaultNamespace ? DEFAULT_NAMESPACE : undefined;
}

/** `?namespace=`, else the default namespace, else 400 `namespace is required`. */
export function namespaceParam(ctx: AdminContext, req: AdminRequest): string {
  const ns = req.param('namespace') ?? fallbackNamespace(ctx);
  if (ns === undefined) throw Errors.NAMESPACE_REQUIRED();
  return ns;
}

/** 404 `namespace not found: X` unless the namespace exists. */
export function requireNamespace(state: State, namespace: string): void {
  if (!state.has('namespace', namespace, namespace)) throw Errors.NOT_FOUND('namespace', namespace);
}

/**
 * Commits one admin write through the single write path and resolves once it is live.
 * Refused (503) until the gateway has loaded its state.
 */
export async function write(ctx: AdminContext, build: (state: State) => Change[]): Promise<State> {
  if (!ctx.ready()) throw Errors.NOT_READY();
  let changes: Change[] = [];
  const after = await ctx.writer.write((state) => (changes = build(state)));
  if (changes.length > 0) {
    const first = changes[0]!;
    ctx.logger?.info({ rev: after.rev, op: first.op, kind: first.kind, namespace: first.namespace, name: first.name, changes: changes.length }, 'admin change');
  }
  return after;
}

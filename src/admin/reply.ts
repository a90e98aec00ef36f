import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../core/errors.js';

/**
 * What a handler answers. Handlers return replies (or throw GatewayErrors); app.ts writes them.
 * `body`: a string is sent as text/plain, anything else as JSON; undefined = no body (or `stream`).
 */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** a long-lived answer (server-sent events): once status and headers are written, `stream` writes the rest */
  stream?: (res: ServerResponse) => void;
}

/** A request stopped before it reached a handler (allow list, auth, routing). */
export interface Refusal {
  error: GatewayError;
  headers?: Record<string, string>;
}

/**
 * DGate's success envelope `{"count":N,"data":…,"status_code":S}`: `count` only when `data` is
 * an array, keys in alphabetical order (as Go's map encoding writes them), `extra` merged in.
 */
export function envelope(status: number, data: unknown, extra: Record<string, unknown> = {}): Reply {
  const fields: Record<string, unknown> = { ...extra, data, status_code: status };
  if (Array.isArray(data)) fields.count = data.length;
  return { status, body: sortKeys(fields) };
}

export function noContent(): Reply {
  return { status: 204 };
}

/** A JSON object with its keys in alphabetical order. */
export function sortKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj).sort()) out[k] = obj[k];
  return out;
}

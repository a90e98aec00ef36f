import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Errors } from '../core/errors.js';
import type { AdminRequest } from './request.js';
import type { Refusal } from './reply.js';

export type AuthMethod = 'none' | 'basic' | 'key';

export interface AuthOptions {
  authMethod: AuthMethod;
  basicUsers: ReadonlyArray<{ username: string; password: string }>;
  keyAuth: { keys: readonly string[]; headerName?: string; queryParamName?: string };
}

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="Access to DGate Admin API"' };

/**
 * Admin authentication, checked after the allow list:
 * - `basic`: `Authorization: Basic` must match one of the users (no users: everyone is refused);
 * - `key`: the key comes from query parameter `queryParamName` if set, else header `headerName`
 *   if set, else header `X-DGate-Key`, and must be one of `keys`.
 * Secrets are compared as SHA-256 digests with timingSafeEqual, against every candidate, so
 * timing tells nothing about which part matched.
 */
export function authGuard(opts: AuthOptions): (req: AdminRequest) => Refusal | null {
  switch (opts.authMethod) {
    case 'none':
      return function noAuth() { return null; };
    case 'basic': {
      const users = opts.basicUsers.map((u) => {
        if (!u.username || !u.password) throw Errors.CONFIG('admin.auth: every basic auth user needs a username and a password');
        return digest(`${u.username}:${u.password}`);
      });
      return function basicAuth(req) {
        const given = basicCredentials(req.raw);
        return given !== null && matchesAny(users, given) ? null : { error: Errors.UNAUTHORIZED(), headers: BASIC_CHALLENGE };
      };
    }
    case 'key': {
      const keys = opts.keyAuth.keys.map(digest);
      const { queryParamName, headerName = 'X-DGate-Key' } = opts.keyAuth;
      const header = headerName.toLowerCase();
      return function keyAuth(req) {
        const given = queryParamName ? req.query.get(queryParamName) : firstHeader(req.raw, header);
        return given && matchesAny(keys, given) ? null : { error: Errors.UNAUTHORIZED() };
      };
    }
    default:
      throw Errors.CONFIG(`admin.auth_method: unsupported value "${String(opts.authMethod)}"`);
  }
}

/** "user:password" from an `Authorization: Basic` header, or null. */
function basicCredentials(req: IncomingMessage): string | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (m === null) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  return decoded.includes(':') ? decoded : null;
}

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function matchesAny(candidates: readonly Buffer[], given: string): boolean {
  const d = digest(given);
  let ok = false;
  for (const c of candidates) ok = timingSafeEqual(c, d) || ok;
  return ok;
}

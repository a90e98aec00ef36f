import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { Errors } from '../core/errors.js';
import type { Refusal } from './reply.js';

/**
 * The admin allow list (`admin.allow_list`): entries are CIDRs ("10.0.0.0/8") or single
 * addresses. An empty list lets everyone through. An invalid entry throws DG_ERR_CONFIG.
 *
 * The client address is the socket peer when `xForwardedForDepth` ≤ 0. Otherwise it is the
 * d-th X-Forwarded-For entry counted from the last: every header line is split on commas and
 * the entries of all lines are counted together; with fewer than d entries the first one is used.
 * With `debug` (the config key) a refusal names the address: `Unauthorized IP Address: <ip>`.
 */
export function allowListGuard(entries: readonly string[], xForwardedForDepth: number, debug = false): (req: IncomingMessage) => Refusal | null {
  if (entries.length === 0) return function allowEveryone() { return null; };
  const list = new BlockList();
  for (const entry of entries) addEntry(list, entry);
  return function checkAllowList(req) {
    const ip = clientIp(req, xForwardedForDepth);
    if (ip === null) return { error: Errors.FORWARDED_FOR_INVALID() };
    if (list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')) return null;
    return { error: debug ? Errors.IP_NOT_ALLOWED(ip) : Errors.UNAUTHORIZED() };
  };
}

/** The client's address for the allow list, or null when X-Forwarded-For holds something else than an IP. */
export function clientIp(req: IncomingMessage, xForwardedForDepth: number): string | null {
  const peer = normalizeIp(req.socket.remoteAddress ?? '');
  if (xForwardedForDepth <= 0) return peer;
  const lines = req.headersDistinct['x-forwarded-for'] ?? [];
  const forwarded = lines.flatMap((line) => line.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (forwarded.length === 0) return peer;
  const entry = forwarded[Math.max(0, forwarded.length - xForwardedForDepth)]!;
  const ip = normalizeIp(entry);
  return isIP(ip) === 0 ? null : ip;
}

/** IPv4-mapped IPv6 ("::ffff:127.0.0.1") becomes plain IPv4 so that IPv4 entries match it. */
function normalizeIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

function addEntry(list: BlockList, entry: string): void {
  const invalid = () => Errors.CONFIG(`admin.allow_list: invalid entry "${entry}"`);
  const [address = '', prefix, ...rest] = entry.trim().split('/');
  const ip = normalizeIp(address);
  const family = isIP(ip);
  if (family === 0 || rest.length > 0) throw invalid();
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (prefix === undefined) {
    list.addAddress(ip, type);
    return;
  }
  const bits = Number(prefix);
  if (!/^\d+$/.test(prefix) || bits > (family === 6 ? 128 : 32)) throw invalid();
  list.addSubnet(ip, bits, type);
}

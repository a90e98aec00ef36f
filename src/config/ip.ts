import { isIP } from 'node:net';

/**
 * True for a single IPv4/IPv6 address or a CIDR block ("10.0.0.0/8", "::1/128").
 * Like Go's net.ParseCIDR, host bits may be set ("127.0.0.1/8" is accepted and means 127.0.0.0/8).
 */
export function isIpOrCidr(entry: string): boolean {
  const slash = entry.indexOf('/');
  if (slash < 0) return isIP(entry) !== 0;
  const family = isIP(entry.slice(0, slash));
  const prefix = entry.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) are meaningful for one connection only and are
 * removed in both directions, along with any header named in the Connection header.
 */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Extra header names listed in a Connection header value, lowercased. */
export function connectionTokens(value: string): Set<string> | null {
  if (value === '' || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return null;
  const out = new Set<string>();
  for (const t of value.split(',')) {
    const name = t.trim().toLowerCase();
    if (name !== '' && name !== 'close' && name !== 'keep-alive') out.add(name);
  }
  return out.size === 0 ? null : out;
}

/** Hop-by-hop headers plus Content-Length: dropped when the gateway sends a body of its own. */
export const HOP_BY_HOP_AND_LENGTH: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'content-length']);

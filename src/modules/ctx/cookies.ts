/** Cookie parsing (request) and Set-Cookie serialisation (response) for module code. */

export interface CookieOptions {
  domain?: string;
  path?: string;
  expires?: Date | string | number;
  maxAge?: number;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'lax' | 'strict' | 'none' | 'Lax' | 'Strict' | 'None';
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (header === undefined) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name === '' || name in out) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function serializeCookie(name: string, value: string, opts: CookieOptions = {}): string {
  if (!TOKEN.test(name)) throw new TypeError(`cookie: invalid name ${JSON.stringify(name)}`);
  let out = `${name}=${encodeURIComponent(value)}`;
  if (opts.domain !== undefined) out += `; Domain=${opts.domain}`;
  out += `; Path=${opts.path ?? '/'}`;
  if (opts.expires !== undefined) out += `; Expires=${new Date(opts.expires).toUTCString()}`;
  if (opts.maxAge !== undefined) out += `; Max-Age=${Math.floor(opts.maxAge)}`;
  if (opts.httpOnly) out += '; HttpOnly';
  if (opts.secure) out += '; Secure';
  if (opts.sameSite !== undefined) out += `; SameSite=${opts.sameSite[0].toUpperCase()}${opts.sameSite.slice(1).toLowerCase()}`;
  return out;
}

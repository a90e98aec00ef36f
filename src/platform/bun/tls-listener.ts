import type { RequestHandler } from '../listener.js';
import type { CertificateSelector, NamedCertificate, TlsCertificate, TlsHttpListener, TlsListenerOptions } from '../tls-listener.js';
import { dispatch, type BunServer } from './listener.js';

interface BunTlsEntry {
  cert: string;
  key: string;
  serverName?: string;
}
interface BunTlsGlobal {
  serve(opts: {
    hostname: string;
    port: number;
    reusePort: boolean;
    idleTimeout: number;
    maxRequestBodySize: number;
    tls: BunTlsEntry[];
    fetch(req: Request, server: BunServer): Response | Promise<Response>;
    error(err: Error): Response;
  }): BunServer;
}

/**
 * `Bun.serve` with `tls`: the first certificate is the default, the others are chosen by SNI
 * server name (exact names, or `*.example.com` for one label); Bun refuses TLS below 1.2.
 *
 * Bun 1.4 cannot change the certificates of a running server (`reload` ignores `tls`, and
 * Bun.serve has no SNI callback), so new certificates start a new server on the same port
 * (SO_REUSEPORT) and the previous one stops accepting: its requests in flight finish, and Bun
 * closes its idle keep-alive connections, which clients then open again on the new server.
 */
export function createTlsListener(opts: TlsListenerOptions, handler: RequestHandler): TlsHttpListener {
  let server: BunServer | null = null;
  let port = opts.port;
  let served: readonly NamedCertificate[] = [];
  let pending: readonly NamedCertificate[] = [];
  let closed = false;

  const start = (named: readonly NamedCertificate[]): BunServer => {
    const tls = entries(opts.fallback, named);
    if (tls.length === 0) throw new Error('no certificate to serve TLS with');
    const bun = (globalThis as unknown as { Bun: BunTlsGlobal }).Bun;
    const s = bun.serve({
      hostname: opts.host,
      port,
      // always: a new server with new certificates binds the port before the old one leaves
      reusePort: true,
      idleTimeout: 0,
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      tls,
      fetch: (request, srv) => dispatch(request, srv, handler, true),
      error: () => new Response('Internal Server Error\n', { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }),
    });
    served = named;
    return s;
  };

  return {
    listen: async () => {
      server = start(pending);
      port = server.port;
      return port;
    },
    close: async () => {
      closed = true;
      const s = server;
      server = null;
      await s?.stop(false);
    },
    setCertificates: async (certificates: CertificateSelector) => {
      pending = certificates.named;
      if (server === null || closed || sameList(served, pending)) return;
      const old = server;
      server = start(pending); // throws (keeping the old server) when Bun refuses a certificate
      void old.stop(false);
    },
  };
}

/** Bun's `tls` list: the default certificate first, then one entry per server name. */
function entries(fallback: TlsCertificate | null, named: readonly NamedCertificate[]): BunTlsEntry[] {
  const out: BunTlsEntry[] = [];
  const first = fallback ?? named[0]?.certificate ?? null;
  if (first === null) return out;
  out.push({ cert: first.cert, key: first.key });
  const seen = new Set<string>();
  for (const n of named) {
    // the first (most preferred) certificate of a name wins, as the SNI callback's choice does on Node
    if (seen.has(n.serverName)) continue;
    seen.add(n.serverName);
    out.push({ serverName: n.serverName, cert: n.certificate.cert, key: n.certificate.key });
  }
  return out;
}

function sameList(a: readonly NamedCertificate[], b: readonly NamedCertificate[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.serverName !== b[i]!.serverName || a[i]!.certificate !== b[i]!.certificate) return false;
  return true;
}

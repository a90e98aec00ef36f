import net from 'node:net';
import tls, { type ConnectionOptions, type PeerCertificate } from 'node:tls';

let installed = false;

/**
 * Wraps `tls.connect` so that an IP address given as `servername` is not sent as SNI (as Node
 * does) instead of being refused; the server's certificate is still checked against that address.
 */
export function dropIpServername(): void {
  if (installed) return;
  installed = true;
  const connect = tls.connect;
  const patched = function (this: unknown, ...args: unknown[]) {
    const i = args.findIndex((a) => typeof a === 'object' && a !== null && typeof (a as ConnectionOptions).servername === 'string');
    if (i >= 0) {
      const opts = args[i] as ConnectionOptions;
      const address = opts.servername!;
      if (net.isIP(address) !== 0) {
        const { servername: _dropped, ...rest } = opts;
        const check = opts.checkServerIdentity ?? tls.checkServerIdentity;
        args[i] = { ...rest, checkServerIdentity: (_host: string, cert: PeerCertificate) => check(address, cert) };
      }
    }
    return (connect as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
  };
  (tls as { connect: unknown }).connect = patched;
}

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Errors } from '../core/errors.js';
import type { ListenerTlsConfig } from '../config/config.js';
import type { TlsCertificate } from '../platform/tls-listener.js';
import { certificateProblem } from './certificate-check.js';
import { selfSignedCertificate } from './self-signed.js';

/** Validity of a generated certificate. */
const GENERATED_DAYS = 3650;

/** Where a listener's certificate lives: cert_file/key_file, else `<storage.dir>/tls/<name>.{crt,key}`. */
export function certificatePaths(tls: ListenerTlsConfig, storageDir: string, name: 'proxy' | 'admin'): { cert: string; key: string } {
  return {
    cert: tls.certFile ?? join(storageDir, 'tls', `${name}.crt`),
    key: tls.keyFile ?? join(storageDir, 'tls', `${name}.key`),
  };
}

/**
 * The certificate of proxy.tls or admin.tls, read once at start-up. With auto_generate and no
 * files yet, a self-signed certificate (for localhost, the loopback addresses and the host name)
 * is created and written there, the key with mode 0600, and read back at every later start.
 */
export function loadListenerCertificate(tls: ListenerTlsConfig, storageDir: string, name: 'proxy' | 'admin'): TlsCertificate {
  const paths = certificatePaths(tls, storageDir, name);
  const key = `${name}.tls`;
  if (tls.autoGenerate && !existsSync(paths.cert) && !existsSync(paths.key)) {
    const generated = selfSignedCertificate({ commonName: `dgate ${name}`, hosts: ['localhost', hostname(), '127.0.0.1', '::1'], days: GENERATED_DAYS });
    try {
      mkdirSync(dirname(paths.key), { recursive: true, mode: 0o700 });
      mkdirSync(dirname(paths.cert), { recursive: true });
      writeFileSync(paths.key, generated.key, { mode: 0o600, flag: 'wx' });
      writeFileSync(paths.cert, generated.cert, { mode: 0o644, flag: 'wx' });
    } catch (err) {
      throw Errors.CONFIG(`${key}.auto_generate: cannot write ${paths.cert} and ${paths.key}: ${(err as Error).message}`);
    }
    return generated;
  }
  const read = (path: string, field: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw Errors.CONFIG(`${key}.${field}: cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const certificate = { cert: read(paths.cert, 'cert_file'), key: read(paths.key, 'key_file') };
  const problem = certificateProblem(certificate.cert, certificate.key);
  if (problem !== null) throw Errors.CONFIG(`${key}.${problem.field === 'cert' ? 'cert_file' : 'key_file'}: ${problem.message}`);
  return certificate;
}

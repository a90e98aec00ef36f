import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

/** What is wrong with a PEM certificate and key pair, naming the field at fault; null when it serves TLS. */
export interface CertificateProblem {
  readonly field: 'cert' | 'key';
  readonly message: string;
}

/**
 * Checks a certificate (PEM, optionally followed by its chain) and its private key the way the
 * TLS listener will use them: both parse, the key belongs to the certificate, and a TLS context
 * can be built from them.
 */
export function certificateProblem(cert: string, key: string): CertificateProblem | null {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    return { field: 'cert', message: `not a PEM certificate (${reason(err)})` };
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    return { field: 'key', message: `not a PEM private key (${reason(err)})` };
  }
  if (!x509.checkPrivateKey(privateKey)) return { field: 'key', message: 'does not match the certificate in cert' };
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    return { field: 'cert', message: `cannot serve TLS with this certificate and key (${reason(err)})` };
  }
  return null;
}

/** The SHA-256 fingerprint of a PEM certificate (`AB:CD:…`). */
export function fingerprint(cert: string): string {
  return new X509Certificate(cert).fingerprint256;
}

function reason(err: unknown): string {
  return (err as Error).message.replace(/^error:[0-9A-Fa-f]+:/, '');
}

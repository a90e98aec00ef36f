import type { ModuleHost } from '../host.js';

/**
 * `dgate/secrets`: read access to the secrets of the module's own namespace.
 *
 * Secrets stay write-only through the admin API; the modules of a namespace are the one place
 * that can read them (DGate had no way at all, so secrets were unusable). Reads are synchronous
 * and come from the state this process serves, so a secret written through the admin API is
 * visible to modules once the write has resolved.
 */
export const name = 'dgate/secrets';

export function create(host: ModuleHost): Record<string, unknown> {
  const secret = (secretName: unknown) => {
    if (typeof secretName !== 'string') throw new TypeError('secret name must be a string');
    return host.state().get('secret', host.namespace, secretName);
  };

  return {
    /** the secret's plain text, or null when the namespace has no secret of that name */
    getSecret(secretName: string): string | null {
      return secret(secretName)?.data ?? null;
    },
    hasSecret(secretName: string): boolean {
      return secret(secretName) !== undefined;
    },
  };
}

import { byteOrder } from '../core/state.js';
import type { Domain } from '../core/types.js';
import type { CertificateSelector, NamedCertificate, TlsCertificate } from '../platform/tls-listener.js';
import { certificateProblem } from '../tls/certificate-check.js';
import { compileHostPattern, type HostMatcher } from './domains.js';

/** Distinct SNI names remembered before the cache is emptied and starts again. */
const CACHE_LIMIT = 10_000;

/** Whether a stored domain's cert and key serve TLS (checked once per domain item). */
const usable = new WeakMap<Domain, boolean>();
function servesTls(domain: Domain): boolean {
  let ok = usable.get(domain);
  if (ok === undefined) {
    ok = certificateProblem(domain.cert!, domain.key!) === null;
    usable.set(domain, ok);
  }
  return ok;
}

/**
 * The domains' certificates, chosen by a handshake's SNI name as requests are routed to
 * namespaces: domains by priority descending, then name and namespace descending, their
 * patterns in order; the first domain with a matching pattern and a certificate wins. When
 * proxy.allowed_domains is set, a name it does not allow gets no domain certificate. No match:
 * the listener's own certificate (proxy.tls). Build one per revision that changes domains.
 *
 * The certificate objects handed out are the stored domain items themselves, so an unchanged
 * domain keeps the same object (and the listener its TLS context) from revision to revision.
 */
export class DomainCertificates implements CertificateSelector {
  static readonly NONE = new DomainCertificates([], null);

  readonly named: readonly NamedCertificate[];
  readonly #matchers: ReadonlyArray<{ readonly matches: HostMatcher; readonly certificate: TlsCertificate }>;
  readonly #allowed: HostMatcher | null;
  readonly #cache = new Map<string, TlsCertificate | null>();

  constructor(domains: readonly Domain[], allowed: HostMatcher | null) {
    this.#allowed = allowed;
    const ordered = domains
      // the admin API refuses bad pairs; one stored some other way is left out rather than break the listener
      .filter((d) => d.cert !== undefined && d.key !== undefined && servesTls(d))
      .sort((a, b) => b.priority - a.priority || byteOrder(b.name, a.name) || byteOrder(b.namespace, a.namespace));
    const matchers: Array<{ matches: HostMatcher; certificate: TlsCertificate }> = [];
    const names: Array<{ serverName: string; certificate: TlsCertificate }> = [];
    for (const domain of ordered) {
      const certificate = domain as TlsCertificate;
      for (const pattern of domain.patterns) {
        try {
          matchers.push({ matches: compileHostPattern(pattern), certificate });
        } catch {
          // a pattern that does not compile never matches (the resolver reports it)
          continue;
        }
        const serverName = serverNameOf(pattern);
        if (serverName !== null) names.push({ serverName, certificate });
      }
    }
    this.#matchers = matchers;
    // An exact name gets what select() picks for it (a higher-priority glob or regex may win);
    // a `*.x` name keeps its own domain's certificate (no static form for the rest).
    const named: NamedCertificate[] = [];
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n.serverName)) continue;
      seen.add(n.serverName);
      const certificate = n.serverName.startsWith('*') ? n.certificate : this.select(n.serverName);
      if (certificate !== null) named.push({ serverName: n.serverName, certificate });
    }
    this.named = named;
  }

  select(serverName: string): TlsCertificate | null {
    if (this.#matchers.length === 0) return null;
    const cached = this.#cache.get(serverName);
    if (cached !== undefined) return cached;
    let chosen: TlsCertificate | null = null;
    if (this.#allowed === null || this.#allowed(serverName)) {
      for (const m of this.#matchers) {
        if (m.matches(serverName)) {
          chosen = m.certificate;
          break;
        }
      }
    }
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(serverName, chosen);
    return chosen;
  }
}

/**
 * A domain pattern as a static SNI name: an exact host, or `*.example.com` (any one label in
 * front). Other patterns (regexes, prefixes, `*` alone) have no static form: null.
 */
export function serverNameOf(pattern: string): string | null {
  const p = pattern.replace(/\*+/g, '*').toLowerCase();
  if (p.length > 2 && p.startsWith('/') && p.endsWith('/')) return null;
  const star = p.indexOf('*');
  if (star < 0) return p;
  if (p.startsWith('*.') && p.indexOf('*', 1) < 0 && p.length > 2) return p;
  return null;
}

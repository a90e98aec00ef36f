import { invalidField } from '../core/errors.js';
import { byteOrder } from '../core/state.js';

/** Tests a host (already passed through `hostOf`, so lowercase and without port). */
export type HostMatcher = (host: string) => boolean;

const matchAnything: HostMatcher = () => true;

/**
 * Compiles a domain pattern (also used for `allowed_domains` and `redirect_https`), DGate's syntax:
 *
 * - runs of `*` collapse to one (before anything else, regexes included, as DGate does);
 * - `*` alone matches anything;
 * - `*x*` = contains x, `*x` = ends with x, `x*` = starts with x; so `*.example.com` does not
 *   match `example.com`, and a `*` anywhere else is a literal character;
 * - `/re/` (longer than two characters) = regex, unanchored: write `^…$` to anchor;
 * - anything else = exact equality.
 *
 * Unlike DGate, matching is case-insensitive, since DNS names are: the host handed to the
 * matcher is lowercased by `hostOf`, literal patterns are lowercased here, and regexes get the
 * `i` flag. Regexes use JavaScript syntax where DGate used Go's RE2.
 */
export function compileHostPattern(pattern: string): HostMatcher {
  if (pattern === '') throw invalidField('patterns', 'empty domain pattern');
  const p = pattern.replace(/\*+/g, '*');
  if (p === '*') return matchAnything;

  const starFirst = p.startsWith('*');
  const starLast = p.endsWith('*');
  if (starFirst && starLast) {
    const part = p.slice(1, -1).toLowerCase();
    return (host) => host.includes(part);
  }
  if (starFirst) {
    const suffix = p.slice(1).toLowerCase();
    return (host) => host.endsWith(suffix);
  }
  if (starLast) {
    const prefix = p.slice(0, -1).toLowerCase();
    return (host) => host.startsWith(prefix);
  }
  if (p.length > 2 && p.startsWith('/') && p.endsWith('/')) {
    let regex: RegExp;
    try {
      regex = new RegExp(p.slice(1, -1), 'i');
    } catch (err) {
      throw invalidField('patterns', `invalid domain pattern '${pattern}': ${(err as Error).message}`);
    }
    return (host) => regex.test(host);
  }
  const exact = p.toLowerCase();
  return (host) => host === exact;
}

/**
 * The host part of a Host header, lowercased, without its port: `Example.com:8080` →
 * `example.com`, `[::1]:8080` → `[::1]`. A bare IPv6 address (`::1`, more than one colon and
 * no brackets) has no port to strip and is returned as is. A missing header gives ''.
 */
export function hostOf(hostHeader: string | undefined): string {
  if (hostHeader === undefined || hostHeader === '') return '';
  const host = hostHeader.toLowerCase();
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const close = host.indexOf(']');
    return close < 0 ? host : host.slice(0, close + 1);
  }
  const colon = host.indexOf(':');
  if (colon < 0 || host.indexOf(':', colon + 1) >= 0) return host;
  return host.slice(0, colon);
}

export interface DomainEntry {
  readonly name: string;
  readonly namespace: string;
  readonly patterns: readonly string[];
  readonly priority: number;
}

export interface NamespaceResolverInput {
  readonly domains: readonly DomainEntry[];
  /** Names of all namespaces. */
  readonly namespaces: readonly string[];
  /** `'default'` when the default namespace is enabled and exists, else null. */
  readonly defaultNamespace: string | null;
}

/** A stored pattern that cannot be compiled; such patterns never match (DGate logs and skips them). */
export interface SkippedPattern {
  readonly domain: string;
  readonly namespace: string;
  readonly pattern: string;
  readonly reason: string;
}

/** Distinct hosts remembered before the cache is emptied and starts again. */
const CACHE_LIMIT = 10_000;

/**
 * Picks the namespace serving a request from its host. Build one per state revision; `resolve`
 * is then one Map lookup for any host seen recently.
 *
 * 1. No domain at all: the only namespace if there is exactly one, else the default namespace,
 *    else none. (DGate picked whichever namespace sat at the root of an internal tree.)
 * 2. Otherwise domains by priority descending, then name descending, then namespace descending
 *    (byte order); within a domain its patterns in order; the first match wins.
 * 3. No match: the default namespace unless some domain belongs to it, else none.
 */
export class NamespaceResolver {
  /** Patterns left out because they do not compile; for the caller to log. */
  readonly skippedPatterns: readonly SkippedPattern[];
  readonly #matchers: ReadonlyArray<{ readonly matches: HostMatcher; readonly namespace: string }>;
  /** Answer when there are no domains (rule 1), or when none matches (rule 3). */
  readonly #fallback: string | null;
  readonly #cache = new Map<string, string | null>();

  constructor(input: NamespaceResolverInput) {
    const { domains, namespaces, defaultNamespace } = input;
    const ordered = [...domains].sort(
      (a, b) => b.priority - a.priority || byteOrder(b.name, a.name) || byteOrder(b.namespace, a.namespace),
    );
    const matchers: Array<{ matches: HostMatcher; namespace: string }> = [];
    const skipped: SkippedPattern[] = [];
    for (const domain of ordered) {
      for (const pattern of domain.patterns) {
        try {
          matchers.push({ matches: compileHostPattern(pattern), namespace: domain.namespace });
        } catch (err) {
          skipped.push({ domain: domain.name, namespace: domain.namespace, pattern, reason: (err as Error).message });
        }
      }
    }
    this.#matchers = matchers;
    this.skippedPatterns = skipped;

    if (domains.length === 0) {
      this.#fallback = namespaces.length === 1 ? namespaces[0]! : defaultNamespace;
    } else {
      const defaultHasDomain = defaultNamespace !== null && domains.some((d) => d.namespace === defaultNamespace);
      this.#fallback = defaultHasDomain ? null : defaultNamespace;
    }
  }

  /** The namespace for `host` (as returned by `hostOf`), or null when none serves it. */
  resolve(host: string): string | null {
    if (this.#matchers.length === 0) return this.#fallback;
    const cached = this.#cache.get(host);
    if (cached !== undefined) return cached;

    let namespace = this.#fallback;
    for (const matcher of this.#matchers) {
      if (matcher.matches(host)) {
        namespace = matcher.namespace;
        break;
      }
    }
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(host, namespace);
    return namespace;
  }
}

import { parseDuration } from '../duration.js';
import { invalidField } from '../errors.js';
import type { Service } from '../types.js';
import type { Body, ParseDefaults } from './fields.js';
import { bool, compact, integer, isAbsent, namespaceOf, readBody, requiredName, stringList, tags } from './fields.js';

const FIELDS = [
  'name', 'namespace', 'urls', 'retries', 'retryTimeout', 'connectTimeout', 'requestTimeout',
  'tlsSkipVerify', 'http2Only', 'hideDGateHeaders', 'disableQueryParams', 'tags',
] as const;

/** An upstream: one or more base URLs plus transport settings. Every PUT is a full replace. */
export function parseService(input: unknown, defaults: ParseDefaults): Service {
  const body = readBody(input, FIELDS);
  return compact({
    name: requiredName(body, 'name'),
    namespace: namespaceOf(body, defaults),
    urls: stringList(body, 'urls', upstreamUrl),
    retries: integer(body, 'retries', 0, 100, 3),
    retryTimeout: duration(body, 'retryTimeout'),
    connectTimeout: duration(body, 'connectTimeout'),
    requestTimeout: duration(body, 'requestTimeout'),
    tlsSkipVerify: bool(body, 'tlsSkipVerify'),
    http2Only: bool(body, 'http2Only'),
    hideDGateHeaders: bool(body, 'hideDGateHeaders'),
    disableQueryParams: bool(body, 'disableQueryParams'),
    tags: tags(body),
  });
}

/** An absolute http(s) URL with a host and no fragment; kept as written (query included). */
function upstreamUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidField(field, 'must be an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidField(field, 'scheme must be http or https');
  if (url.hostname === '') throw invalidField(field, 'host is required');
  if (value.includes('#')) throw invalidField(field, 'must not have a fragment');
  return value;
}

/** Nanoseconds ≥ 0 from an integer or a string such as "1.5s"; absent → 0. */
function duration(body: Body, field: string): number {
  const v = body[field];
  if (isAbsent(v)) return 0;
  const ns = parseDuration(v);
  if (ns === null) throw invalidField(field, 'must be a duration: integer nanoseconds or a string such as "1.5s"');
  if (ns < 0) throw invalidField(field, 'must not be negative');
  return ns;
}

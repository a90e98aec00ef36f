import { isMap, isScalar, Document as YamlDocument } from 'yaml';
import type { ResourceSpec } from '../resources/field.js';
import { SPECS_IN_ORDER } from '../resources/index.js';
import { REDACTED } from '../resources/secret.js';
import type { Entry } from './entry.js';

export type ExportFormat = 'yaml' | 'json';

/**
 * The declarative file for a set of items, as `apply` reads it: sections in dependency order
 * (namespaces first), empty ones left out; items sorted by namespace then name (documents by
 * collection then id); each item's keys in the order of its field table, with exactly the
 * fields the API answered (documents without their timestamps, which the server sets).
 * Secrets' data and domains' private keys carry the placeholder "**redacted**", which apply reads
 * as "keep the stored value".
 */
export function exportFile(entries: Iterable<Entry>): Record<string, Array<Record<string, unknown>>> {
  const bySection = new Map<ResourceSpec, Entry[]>();
  for (const e of entries) bySection.set(e.spec, [...(bySection.get(e.spec) ?? []), e]);
  const file: Record<string, Array<Record<string, unknown>>> = {};
  for (const spec of SPECS_IN_ORDER) {
    const list = bySection.get(spec);
    if (list === undefined || list.length === 0) continue;
    list.sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name));
    file[spec.section] = list.map((e) => fileItem(spec, e.item));
  }
  return file;
}

/** The file's text: YAML (with a note above the secrets) or JSON, ending with a newline. */
export function formatFile(file: Record<string, unknown>, format: ExportFormat): string {
  if (format === 'json') return `${JSON.stringify(file, null, 2)}\n`;
  const doc = new YamlDocument(file);
  if (isMap(doc.contents)) {
    const secrets = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'secrets');
    if (secrets !== undefined && isScalar(secrets.key)) {
      secrets.key.commentBefore = ` secret values cannot be read back: "${REDACTED}" keeps the stored value when applied`;
    }
    const domains = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'domains');
    if (domains !== undefined && isScalar(domains.key)) {
      domains.key.commentBefore = ` private keys cannot be read back: key "${REDACTED}" keeps the stored key when applied`;
    }
  }
  // lineWidth 0: long values (base64 payloads, PEM) stay on one line
  return doc.toString({ lineWidth: 0 });
}

function fileItem(spec: ResourceSpec, item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of spec.fields) if (item[f.name] !== undefined) out[f.name] = item[f.name];
  if (spec.kind === 'document') return out;
  for (const k of Object.keys(item).sort()) if (!(k in out)) out[k] = item[k];
  if (spec.kind === 'secret') out.data = REDACTED;
  if (spec.kind === 'domain' && out.key !== undefined) out.key = REDACTED;
  return out;
}

/** Byte order, as the server sorts names (localeCompare would not). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

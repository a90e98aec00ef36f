import { durationNanos } from '../duration.js';
import type { FieldSpec, ResourceSpec } from '../resources/field.js';

/**
 * An item in the form the server stores it, so that a file can be compared with what the API
 * answers: defaults filled in, durations in nanoseconds, methods upper-cased, and optional
 * fields left empty ("" or []) dropped, as the server drops them. Values the server would refuse
 * are left as they are (the write then fails with the server's message).
 */
export function storedForm(spec: ResourceSpec, item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    const field = spec.fields.find((f) => f.name === key);
    const v = field === undefined ? value : canonical(field, value);
    if (v !== undefined) out[key] = v;
  }
  for (const field of spec.fields) {
    if (!Object.hasOwn(out, field.name) && field.default !== undefined) out[field.name] = field.default;
  }
  return out;
}

function canonical(field: FieldSpec, value: unknown): unknown {
  if (value === null || value === undefined) return field.default;
  if (field.default === undefined && !field.required && (value === '' || (Array.isArray(value) && value.length === 0))) return undefined;
  if (field.type === 'duration') return durationNanos(value) ?? value;
  return field.canonical === undefined ? value : field.canonical(value);
}

/**
 * The fields whose values differ between a wanted item and a stored one (both in stored form),
 * in the spec's order. Fields the CLI does not know are compared only when the file sets them.
 */
export function changedFields(spec: ResourceSpec, wanted: Record<string, unknown>, stored: Record<string, unknown>): string[] {
  const names = [...spec.fields.map((f) => f.name), ...Object.keys(wanted).filter((k) => !spec.fields.some((f) => f.name === k))];
  return names.filter((name) => stableJson(wanted[name]) !== stableJson(stored[name]));
}

/** JSON with object keys sorted, so that key order (YAML vs JSON, hand-edited files) is no change. */
export function stableJson(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

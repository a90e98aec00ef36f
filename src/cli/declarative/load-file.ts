import { readFileSync, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { MAX_FILE_BYTES, tooDeep, tooDeepProblem } from '../../core/limits.js';
import { SPECS_IN_ORDER } from '../resources/index.js';
import { UsageError } from '../usage-error.js';
import { PayloadFileError, takePayloadFile } from '../../core/payload-file.js';
import type { Entry } from './entry.js';
import { DEFAULT_NAMESPACE, identityOf, keyOf, labelOf } from './entry.js';

/**
 * Reads a declarative file: DGate's `init_resources` shape, in YAML or JSON (by extension;
 * anything but .json is read as YAML, which JSON also is).
 *
 *   namespaces: [{name: app}]
 *   modules:    [{name: m, namespace: app, payload_file: m.ts}]   # or payload: <base64>
 *   services, routes, domains, collections, documents, secrets: lists of items with the API's fields
 *
 * Items without a namespace go to "default". A module's `payload_file` (relative to the file)
 * is read and base64-encoded into `payload`. Unknown sections or fields, items without a name
 * (documents: id and collection) and items listed twice are refused, naming the item:
 * nothing is sent to the server before the whole file is known to be well-formed.
 */
export function loadDeclarativeFile(path: string, cwd: string): Entry[] {
  const full = resolve(cwd, path);
  let text: string;
  try {
    if (statSync(full).size > MAX_FILE_BYTES) throw fileError(path, `larger than ${MAX_FILE_BYTES} bytes`);
    text = readFileSync(full, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw fileError(path, `cannot read it: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = extname(full).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    // The YAML parser recurses per nesting level: a file nested thousands deep overflows it.
    if (err instanceof RangeError || /Maximum call stack size exceeded/.test(String((err as Error).message))) throw fileError(path, tooDeepProblem());
    throw fileError(path, `not valid ${extname(full).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  const deep = tooDeep(doc);
  if (deep !== null) throw fileError(path, `${deep.field}: ${tooDeepProblem()}`);
  if (doc === null || doc === undefined) return [];
  if (!isMap(doc)) throw fileError(path, 'expected a map of sections (namespaces, services, routes, …)');

  const sections = new Set(SPECS_IN_ORDER.map((s) => s.section));
  for (const key of Object.keys(doc)) {
    if (!sections.has(key)) throw fileError(path, `unknown section "${key}" (expected ${[...sections].join(', ')})`);
  }

  const entries: Entry[] = [];
  const seen = new Map<string, string>();
  for (const spec of SPECS_IN_ORDER) {
    const list = doc[spec.section];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw fileError(path, `${spec.section}: expected a list`);
    list.forEach((raw: unknown, i: number) => {
      const where = `${spec.section}[${i}]`;
      if (!isMap(raw)) throw fileError(path, `${where}: expected a map`);
      const allowed = new Set(spec.fields.map((f) => f.name));
      if (spec.kind === 'module') allowed.add('payload_file');
      const unknown = Object.keys(raw).filter((k) => !allowed.has(k));
      if (unknown.length > 0) throw fileError(path, `${where}: unknown field(s) for ${spec.kind}: ${unknown.join(', ')}`);

      const item = spec.kind === 'module' ? withPayloadFile(raw, dirname(full), path, where) : { ...raw };
      if (spec.kind !== 'namespace' && (item.namespace === undefined || item.namespace === null || item.namespace === '')) {
        item.namespace = DEFAULT_NAMESPACE;
      }
      const id = identityOf(spec, item);
      if (id === null) {
        const need = spec.kind === 'document' ? 'id and collection are required' : 'name is required';
        throw fileError(path, `${where}: ${need} (as text)`);
      }
      const entry: Entry = { spec, namespace: id.namespace, name: id.name, item };
      const first = seen.get(keyOf(entry));
      if (first !== undefined) throw fileError(path, `${where}: ${labelOf(entry)} is already listed as ${first}`);
      seen.set(keyOf(entry), where);
      entries.push(entry);
    });
  }
  return entries;
}

/** A module item with `payload_file` replaced by `payload` (the file's text, base64). */
function withPayloadFile(raw: Record<string, unknown>, baseDir: string, path: string, where: string): Record<string, unknown> {
  try {
    const { rest, content } = takePayloadFile(raw, baseDir, (file) => readFileSync(file));
    return content === null ? rest : { ...rest, payload: content.toString('base64') };
  } catch (err) {
    if (!(err instanceof PayloadFileError)) throw err;
    throw fileError(path, `${where}${err.field === null ? '' : `.${err.field}`}: ${err.message}`);
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fileError(path: string, problem: string): UsageError {
  return new UsageError(`${path}: ${problem}`, 'apply');
}

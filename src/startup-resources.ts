import type { Logger } from 'pino';
import { documentName, type Change } from './core/change.js';
import { GatewayError, invalidField } from './core/errors.js';
import { parseCollection } from './core/resources/collection.js';
import { parseDocument } from './core/resources/document.js';
import { parseDomain } from './core/resources/domain.js';
import { parseModule } from './core/resources/module.js';
import { parseNamespace } from './core/resources/namespace.js';
import { parseRoute } from './core/resources/route.js';
import { parseSecret } from './core/resources/secret.js';
import { parseService } from './core/resources/service.js';
import type { State } from './core/state.js';
import type { Domain, Kind, Resource } from './core/types.js';
import type { Config, ResourceItem } from './config/config.js';
import type { ChangeWriter } from './sync/writer.js';
import { certificateProblem } from './tls/certificate-check.js';

type Parse = (input: Record<string, unknown>, state: State, now: Date) => { kind: Kind; namespace: string; name: string; item: Resource };

/** init_resources sections in dependency order, each with how to parse one of its items. */
const SECTIONS: Array<[keyof Config['proxy']['initResources'], Parse]> = [
  ['namespaces', (i) => ((n) => ({ kind: 'namespace', namespace: n.name, name: n.name, item: n }))(parseNamespace(i))],
  // In the config file a module's payload is its source text (DGate); the API stores base64.
  ['modules', (i) => ((m) => ({ kind: 'module', namespace: m.namespace, name: m.name, item: m }))(parseModule(moduleInput(i), {}))],
  ['services', (i) => ((s) => ({ kind: 'service', namespace: s.namespace, name: s.name, item: s }))(parseService(i, {}))],
  ['routes', (i) => ((r) => ({ kind: 'route', namespace: r.namespace, name: r.name, item: r }))(parseRoute(i, {}))],
  ['domains', (i) => ((d) => ({ kind: 'domain', namespace: d.namespace, name: d.name, item: d }))(checkedDomain(parseDomain(i, {})))],
  ['collections', (i) => ((c) => ({ kind: 'collection', namespace: c.namespace, name: c.name, item: c }))(parseCollection(i, {}))],
  [
    'documents',
    (i, state, now) => {
      const id = String(i.id ?? '');
      const namespace = String(i.namespace ?? '');
      const collection = String(i.collection ?? '');
      const name = documentName(collection, id);
      const previous = state.get('document', namespace, name);
      return { kind: 'document', namespace, name, item: parseDocument(i.data, { id, namespace, collection, previous, now }) };
    },
  ],
  ['secrets', (i) => ((s) => ({ kind: 'secret', namespace: s.namespace, name: s.name, item: s }))(parseSecret(i, {}))],
];

/** A domain whose cert and key cannot serve TLS together stops start-up, as the admin API refuses it. */
function checkedDomain(domain: Domain): Domain {
  if (domain.cert !== undefined && domain.key !== undefined) {
    const problem = certificateProblem(domain.cert, domain.key);
    if (problem !== null) throw invalidField(problem.field, problem.message);
  }
  return domain;
}

function moduleInput(item: Record<string, unknown>): Record<string, unknown> {
  const { payload, ...rest } = item;
  return { moduleType: 'typescript', ...rest, payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8').toString('base64') : payload };
}

/** Equal for the purpose of "already applied": documents compare by data only (timestamps differ). */
function unchanged(kind: Kind, before: unknown, after: Resource): boolean {
  if (before === undefined) return false;
  if (kind === 'document') return JSON.stringify((before as { data: unknown }).data) === JSON.stringify((after as { data: unknown }).data);
  return JSON.stringify(before) === JSON.stringify(after);
}

/**
 * Brings the store up to what the config asks for at every start: the `default` namespace
 * (unless disabled) and every `init_resources` item, in one batch, writing only what differs
 * (so restarting with the same file changes nothing). An invalid item stops start-up with a
 * message naming it.
 */
export async function applyStartupResources(writer: ChangeWriter, config: Config, logger: Logger): Promise<void> {
  const init = config.proxy.initResources;
  const now = new Date();
  const state = await writer.write((s) => {
    const changes: Change[] = [];
    if (!config.disableDefaultNamespace && !s.has('namespace', 'default', 'default')) {
      changes.push({ op: 'put', kind: 'namespace', namespace: 'default', name: 'default', item: { name: 'default', tags: ['default'] } });
    }
    for (const [section, parse] of SECTIONS) {
      init[section].forEach((raw: ResourceItem, i: number) => {
        let parsed;
        try {
          parsed = parse({ ...raw }, s, now);
        } catch (err) {
          if (err instanceof GatewayError) err.message = `init_resources.${section}[${i}]: ${err.message}`;
          throw err;
        }
        if (!unchanged(parsed.kind, s.get(parsed.kind, parsed.namespace, parsed.name), parsed.item)) {
          changes.push({ op: 'put', ...parsed } as Change);
        }
      });
    }
    return changes;
  });
  logger.debug({ rev: state.rev }, 'startup resources applied');
}

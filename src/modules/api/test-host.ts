import type { Change } from '../../core/change.js';
import { parseCollection } from '../../core/resources/collection.js';
import { parseNamespace } from '../../core/resources/namespace.js';
import { parseSecret } from '../../core/resources/secret.js';
import { MemoryStore } from '../../store/memory.js';
import { Syncer } from '../../sync/syncer.js';
import { ChangeWriter } from '../../sync/writer.js';
import type { ModuleHost, ModuleLogLevel } from '../host.js';

/**
 * A ModuleHost for the tests of the dgate/* built-ins and the globals, over the gateway's real
 * write path (ChangeWriter over a MemoryStore, so writes are validated by validateBatch).
 *
 * Seeded with namespace `ns1` holding:
 * - collection `users`, whose documents must be `{ name: string, age?: integer }`;
 * - collection `notes` without a schema;
 * - secret `api-key` = "s3cr3t";
 * and namespace `other` with a collection `users` and a secret `api-key` of its own, to show
 * that a module only sees its own namespace.
 */
export interface TestHost extends ModuleHost {
  readonly writer: ChangeWriter;
  readonly store: MemoryStore;
  /** every host.log call, in order */
  readonly logs: Array<{ level: ModuleLogLevel; module: string | null; message: string }>;
}

export const USERS_SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name'],
  additionalProperties: false,
};

export async function createTestHost(opts: { namespace?: string; fetchTimeoutMs?: number } = {}): Promise<TestHost> {
  const store = new MemoryStore();
  const syncer = new Syncer(store);
  await syncer.start();
  const writer = new ChangeWriter(store, syncer);
  const put = (kind: Change['kind'], namespace: string, name: string, item: unknown): Change =>
    ({ op: 'put', kind, namespace, name, item }) as Change;
  await writer.write(() => [
    put('namespace', 'ns1', 'ns1', parseNamespace({ name: 'ns1' })),
    put('namespace', 'other', 'other', parseNamespace({ name: 'other' })),
    put('collection', 'ns1', 'users', parseCollection({ name: 'users', namespace: 'ns1', schema: USERS_SCHEMA }, {})),
    put('collection', 'ns1', 'notes', parseCollection({ name: 'notes', namespace: 'ns1' }, {})),
    put('collection', 'other', 'users', parseCollection({ name: 'users', namespace: 'other' }, {})),
    put('secret', 'ns1', 'api-key', parseSecret({ name: 'api-key', namespace: 'ns1', data: 's3cr3t' }, {})),
    put('secret', 'other', 'api-key', parseSecret({ name: 'api-key', namespace: 'other', data: 'not yours' }, {})),
  ]);

  const logs: TestHost['logs'] = [];
  return {
    namespace: opts.namespace ?? 'ns1',
    state: () => writer.state,
    write: (build) => writer.write(build),
    log: (level, module, message) => logs.push({ level, module, message }),
    fetchTimeoutMs: opts.fetchTimeoutMs ?? 5000,
    cache: new Map(),
    writer,
    store,
    logs,
  };
}

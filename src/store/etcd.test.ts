import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { startEtcdCluster, type EtcdCluster } from '../../test/support/etcd-cluster.js';
import type { Change, ChangeBatch } from '../core/change.js';
import { GatewayError } from '../core/errors.js';
import { createEtcdClient } from './etcd-client.js';
import { EtcdStore, type EtcdStoreOptions } from './etcd.js';
import { runStoreContract } from './store.contract.js';

/** One single-member cluster for the contract and most cases; started on first use. */
let shared: Promise<EtcdCluster> | null = null;
const clients: Etcd3[] = [];
function cluster(): Promise<EtcdCluster> {
  shared ??= startEtcdCluster({ size: 1 });
  return shared;
}
function client(c: EtcdCluster): Etcd3 {
  const e = createEtcdClient({ endpoints: c.endpoints });
  clients.push(e);
  return e;
}
after(async () => {
  for (const c of clients) c.close();
  await (await shared)?.close();
});

const freshPrefix = () => `/dgate-test/${randomUUID()}/`;

runStoreContract('etcd', async (opts = {}) => {
  const c = await cluster();
  const prefix = freshPrefix();
  const e = client(c);
  const make = () => new EtcdStore({ client: e, prefix, ...opts });
  let current = make();
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = make();
      return current;
    },
    cleanup: async () => {
      await current.close();
      await e.delete().prefix(prefix);
    },
  };
});

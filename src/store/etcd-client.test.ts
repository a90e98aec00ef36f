/**
 * The etcd client built from storage.* settings, against real etcd processes: password
 * authentication and TLS with a client certificate.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../../test/support/server-process.js';
import { startEtcdCluster, type EtcdCluster } from '../../test/support/etcd-cluster.js';
import type { Change } from '../core/change.js';
import { GatewayError } from '../core/errors.js';
import { createEtcdClient, type EtcdClientOptions } from './etcd-client.js';
import { EtcdStore } from './etcd.js';

const run = promisify(execFile);
const ns = (name: string): Change => ({ op: 'put', kind: 'namespace', namespace: name, name, item: { name } });

async function commitWith(opts: EtcdClientOptions): Promise<number> {
  const store = new EtcdStore({ client: createEtcdClient(opts), prefix: '/auth-test/', closeClient: true });
  try {
    return await store.commit([ns(`n${Date.now()}`)]);
  } finally {
    await store.close();
  }
}

describe('etcd client with password authentication', () => {
  let c: EtcdCluster;
  before(async () => {
    c = await startEtcdCluster({ size: 1 });
    const ep = ['--endpoints', c.endpoints[0]!];
    await run('etcdctl', [...ep, 'user', 'add', 'root:root-pw'], { env: { ...process.env, ETCDCTL_API: '3' } });
    await run('etcdctl', [...ep, 'user', 'add', 'dgate:dgate-pw'], { env: { ...process.env, ETCDCTL_API: '3' } });
    await run('etcdctl', [...ep, 'user', 'grant-role', 'dgate', 'root'], { env: { ...process.env, ETCDCTL_API: '3' } });
    await run('etcdctl', [...ep, 'auth', 'enable'], { env: { ...process.env, ETCDCTL_API: '3' } });
  });
  after(() => c?.close());

  it('commits with the right user and password', async () => {
    assert.ok((await commitWith({ endpoints: c.endpoints, username: 'dgate', password: 'dgate-pw' })) >= 1);
  });

  it('a wrong password or no user is refused with a store error, not a hang', async () => {
    for (const opts of [{ username: 'dgate', password: 'wrong' }, {}]) {
      const err = await commitWith({ endpoints: c.endpoints, ...opts }).then(
        () => assert.fail('commit accepted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof GatewayError, String(err));
      assert.equal(err.code, 'DG_ERR_STORE');
      assert.match(err.message, /auth|permission|user name/i);
    }
  });
});

describe('etcd client with TLS', () => {
  let dir: string;
  let etcd: ChildProcess;
  let url: string;
  const file = (name: string) => join(dir, name);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dgate-etcd-tls-'));
    const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
    await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca-key.pem', '-out', 'ca.pem');
    writeFileSync(file('san.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
    for (const who of ['server', 'client']) {
      await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', `${who}-key.pem`, '-out', `${who}.csr`);
      await ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-extfile', 'san.cnf', '-out', `${who}.pem`);
    }
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    url = `https://127.0.0.1:${clientPort}`;
    etcd = spawn(
      'etcd',
      [
        '--data-dir', file('data'),
        '--listen-client-urls', url,
        '--advertise-client-urls', url,
        '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
        '--initial-cluster', `default=http://127.0.0.1:${peerPort}`,
        '--cert-file', file('server.pem'),
        '--key-file', file('server-key.pem'),
        '--trusted-ca-file', file('ca.pem'),
        '--client-cert-auth',
      ],
      { stdio: 'ignore' },
    );
    // ready once a TLS client can commit
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await commitWith(tlsOpts());
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  after(async () => {
    if (etcd && etcd.exitCode === null) await new Promise((r) => { etcd.once('exit', r); etcd.kill('SIGKILL'); });
    rmSync(dir, { recursive: true, force: true });
  });

  const tlsOpts = (tls: EtcdClientOptions['tls'] = { caFile: file('ca.pem'), certFile: file('client.pem'), keyFile: file('client-key.pem') }): EtcdClientOptions => ({
    endpoints: [url],
    tls,
  });

  it('commits over TLS with the CA and a client certificate', async () => {
    assert.ok((await commitWith(tlsOpts())) >= 1);
  });

  it('is refused without the client certificate', async () => {
    const err = await commitWith(tlsOpts({ caFile: file('ca.pem') })).then(
      () => assert.fail('commit accepted without a client certificate'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GatewayError, String(err));
    assert.match(err.code, /^DG_ERR_STORE/);
  });
});

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { GatewayError } from '../core/errors.js';
import type { AdminHarness } from './harness.js';
import { startAdmin } from './harness.js';

async function withAdmin(opts: Parameters<typeof startAdmin>[0], fn: (admin: AdminHarness) => Promise<void>): Promise<void> {
  const admin = await startAdmin(opts);
  try {
    await fn(admin);
  } finally {
    await admin.close();
  }
}

const xff = (...entries: string[]) => ({ 'X-Forwarded-For': entries.join(', ') });

test('an empty allow list lets everyone in', async () => {
  await withAdmin({ allowList: [] }, async (admin) => {
    assert.equal((await admin.call('GET', '/healthz')).status, 200);
  });
});

test('the socket peer is checked against addresses and CIDRs (IPv4-mapped peers match IPv4 entries)', async () => {
  await withAdmin({ allowList: ['10.0.0.0/8', '127.0.0.0/30'] }, async (admin) => {
    assert.equal((await admin.call('GET', '/healthz')).status, 200);
  });
  await withAdmin({ allowList: ['127.0.0.1'] }, async (admin) => {
    assert.equal((await admin.call('GET', '/healthz')).status, 200);
  });
  await withAdmin({ allowList: ['10.0.0.1', '::1'] }, async (admin) => {
    const r = await admin.call('GET', '/healthz');
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'Unauthorized');
    // without a depth, X-Forwarded-For is not trusted
    assert.equal((await admin.call('GET', '/healthz', undefined, xff('10.0.0.1'))).status, 401);
  });
});

test('with a depth, the d-th X-Forwarded-For entry from the last is the client', async () => {
  await withAdmin({ allowList: ['192.168.1.0/24'], xForwardedForDepth: 2 }, async (admin) => {
    assert.equal((await admin.call('GET', '/healthz', undefined, xff('6.6.6.6', '192.168.1.7', '10.0.0.1'))).status, 200);
    assert.equal((await admin.call('GET', '/healthz', undefined, xff('192.168.1.7', '6.6.6.6', '10.0.0.1'))).status, 401);
    // fewer entries than the depth: the first one
    assert.equal((await admin.call('GET', '/healthz', undefined, xff('192.168.1.9'))).status, 200);
    const bad = await admin.call('GET', '/healthz', undefined, xff('not-an-ip', '10.0.0.1'));
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'could not parse X-Forwarded-For IP');
  });
});

test('entries of several X-Forwarded-For header lines are counted together', async () => {
  await withAdmin({ allowList: ['192.168.1.7'], xForwardedForDepth: 3 }, async (admin) => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${admin.url}/healthz`, (r) => {
        r.resume();
        resolve(r.statusCode!);
      });
      // an array value goes out as one header line per element
      req.setHeader('X-Forwarded-For', ['1.1.1.1, 192.168.1.7', '2.2.2.2', '3.3.3.3']);
      req.on('error', reject).end();
    });
    assert.equal(status, 200);
  });
});

test('an invalid allow list entry is a configuration error', async () => {
  for (const entry of ['nope', '10.0.0.0/33', '10.0.0.0/x', '1.2.3.4/8/9']) {
    await assert.rejects(startAdmin({ allowList: [entry] }), (e: unknown) => e instanceof GatewayError && e.code === 'DG_ERR_CONFIG', entry);
  }
});

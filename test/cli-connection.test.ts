/**
 * How dgate-cli reaches the admin API: the address (flag, environment, no scheme), basic and
 * key authentication (including the password prompt), redirects (-f) and the -V request log.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { cli } from './support/cli-run.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

describe('admin address', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw.close());

  it('--admin wins over DGATE_ADMIN_API, and http:// is assumed without a scheme', async () => {
    const hostPort = gw.adminUrl.replace('http://', '');
    const r = await cli(['--admin', hostPort, 'ns', 'ls'], { env: { DGATE_ADMIN_API: 'http://127.0.0.1:9' } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json(), [{ name: 'default', tags: ['default'] }]);
    const viaEnv = await cli(['ns', 'ls'], { env: { DGATE_ADMIN_API: hostPort } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    const inline = await cli([`--admin=${gw.adminUrl}/`, 'ns', 'get', 'default']);
    assert.equal(inline.code, 0, inline.stderr);
  });

  it('-V prints one line per request to stderr: METHOD URL - STATUS DURATION', async () => {
    const r = await cli(['-V', 'ns', 'mk', 'name=verbose'], { admin: gw.adminUrl });
    assert.equal(r.code, 0);
    assert.match(r.stderr, new RegExp(`^PUT ${gw.adminUrl}/api/v1/namespace - 201 \\d+\\.\\d{3}ms\\n$`));
    const failed = await cli(['-V', 'svc', 'get', 'ghost', 'namespace=verbose'], { admin: gw.adminUrl });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, new RegExp(`^GET ${gw.adminUrl}/api/v1/service/ghost\\?namespace=verbose - 404 [\\d.]+ms\\ndgate-cli: 404 error from server: service not found: ghost\\n$`));
  });

  it('--version and --help need no server', async () => {
    const v = await cli(['--version'], { admin: 'http://127.0.0.1:9' });
    assert.match(v.stdout, /^dgate-cli version \d+\.\d+\.\d+\n$/);
    const h = await cli(['-h'], { admin: 'http://127.0.0.1:9' });
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: dgate-cli/);
  });
});

describe('basic auth', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ admin: { auth_method: 'basic', basic_auth: { users: [{ username: 'ops', password: 'p:w' }] } } });
  });
  after(() => gw.close());

  it('-a user:pass and DGATE_ADMIN_AUTH authenticate; the password may contain ":"', async () => {
    assert.equal((await cli(['-a', 'ops:p:w', 'ns', 'ls'], { admin: gw.adminUrl })).code, 0);
    assert.equal((await cli(['--auth=ops:p:w', 'ns', 'ls'], { admin: gw.adminUrl })).code, 0);
    assert.equal((await cli(['-Va', 'ops:p:w', 'ns', 'ls'], { admin: gw.adminUrl })).code, 0, 'short flags combine, the value flag last');
    assert.equal((await cli(['ns', 'ls'], { admin: gw.adminUrl, env: { DGATE_ADMIN_AUTH: 'ops:p:w' } })).code, 0);
  });

  it('wrong or missing credentials: exit 1 with the server’s 401', async () => {
    const r = await cli(['-a', 'ops:nope', 'ns', 'ls'], { admin: gw.adminUrl });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'dgate-cli: 401 error from server: Unauthorized\n');
    assert.equal((await cli(['ns', 'ls'], { admin: gw.adminUrl })).code, 1);
  });

  it('a user alone asks for the password when stdin is a terminal', async () => {
    const r = await cli(['-a', 'ops', 'ns', 'ls'], { admin: gw.adminUrl, ttyInput: 'p:w\r' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'Password for ops: \n', 'the password is not echoed');
    assert.deepEqual(r.json(), [{ name: 'default', tags: ['default'] }]);
  });
});

describe('key auth', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ admin: { auth_method: 'key', key_auth: { keys: ['k-123'] } } });
  });
  after(() => gw.close());

  it('--key and DGATE_ADMIN_KEY send X-DGate-Key', async () => {
    assert.equal((await cli(['--key', 'k-123', 'ns', 'ls'], { admin: gw.adminUrl })).code, 0);
    assert.equal((await cli(['ns', 'ls'], { admin: gw.adminUrl, env: { DGATE_ADMIN_KEY: 'k-123' } })).code, 0);
    const r = await cli(['--key', 'wrong', 'ns', 'ls'], { admin: gw.adminUrl });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'dgate-cli: 401 error from server: Unauthorized\n');
  });

  it('--auth and --key together are a usage error', async () => {
    const r = await cli(['-a', 'u:p', '--key', 'k', 'ns', 'ls'], { admin: gw.adminUrl });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^dgate-cli: give --auth \(basic\) or --key, not both\n/);
  });
});

describe('redirects (a clustered DGate sends writes to its leader with a 307)', () => {
  let gw: TestGateway;
  let redirector: Server;
  let redirectorUrl: string;
  before(async () => {
    gw = await startTestGateway();
    const leader = new URL(gw.adminUrl);
    // answers every request with DGate's scheme-relative leader redirect
    redirector = createServer((req, res) => {
      res.writeHead(307, { Location: `//${leader.host}${req.url}` }).end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
  });
  after(async () => {
    redirector.closeAllConnections();
    await new Promise((r) => redirector.close(r));
    await gw.close();
  });

  it('without -f: exit 1 asking for --follow, nothing written', async () => {
    const r = await cli(['ns', 'mk', 'name=via-redirect'], { admin: redirectorUrl });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'dgate-cli: redirect from server; retry with the --follow flag\n');
    assert.equal((await gw.admin('GET', '/api/v1/namespace/via-redirect')).status, 404);
  });

  it('-f (or DGATE_FOLLOW_REDIRECTS) follows, body and method kept; -V shows each hop', async () => {
    const r = await cli(['-Vf', 'ns', 'mk', 'name=via-redirect'], { admin: redirectorUrl });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json(), { name: 'via-redirect' });
    const hops = r.stderr.trimEnd().split('\n');
    assert.equal(hops.length, 2);
    assert.match(hops[0]!, new RegExp(`^PUT ${redirectorUrl}/api/v1/namespace - 307 `));
    assert.match(hops[1]!, new RegExp(`^PUT ${gw.adminUrl}/api/v1/namespace - 201 `));
    const viaEnv = await cli(['ns', 'rm', 'via-redirect'], { admin: redirectorUrl, env: { DGATE_FOLLOW_REDIRECTS: 'true' } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal((await gw.admin('GET', '/api/v1/namespace/via-redirect')).status, 404);
  });
});

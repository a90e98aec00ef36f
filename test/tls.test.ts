/**
 * The TLS edge: proxy.tls beside the plain listener, certificates chosen by SNI from the
 * domains (priority rules), changed without a restart, TLS 1.2 minimum, X-Forwarded-Proto,
 * redirect_https to the TLS port; auto_generate kept across restarts; the admin API over TLS
 * with dgate-cli; domain private keys never shown. Real sockets, openssl and curl.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { freePort, putJson, startServerProcess, stop, tempDir, type ServerProcess } from './support/server-process.js';
import { opensslCert, peerCertificate, run, sClient, selfSignedCert } from './support/tls.js';
import { until } from './support/until.js';

const CLI_BIN = fileURLToPath(new URL('../src/bin/dgate-cli.js', import.meta.url));

describe('proxy TLS listener', () => {
  let echo: EchoServer;
  let gw: TestGateway;
  let tlsPort: number;
  let dir: string;
  /** called when a ?wait= request reaches the upstream */
  let onSleep: ((path: string) => void) | null = null;
  const certs = {
    fallback: opensslCert('fallback.test'),
    shop: opensslCert('shop.test'),
    api: opensslCert('api.shop.test'),
    c: opensslCert('c.test'),
    c2: opensslCert('c.test'),
    kinds: opensslCert('kinds.test'),
  };
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dgate-tls-test-'));
    echo = await startEchoServer({ onSleep: (path) => onSleep?.(path) });
    gw = await startTestGateway({
      proxy: {
        tls: { port: 0, cert_file: file('fallback.crt', certs.fallback.cert), key_file: file('fallback.key', certs.fallback.key) },
        redirect_https: ['secure.test'],
      },
    });
    tlsPort = gw.gateway.proxyTlsPort!;
    await gw.put('service', { name: 'echo', urls: [echo.url] });
    await gw.put('route', { name: 'echo', paths: ['/*'], methods: ['*'], service: 'echo' });
    await gw.put('domain', { name: 'shop', patterns: ['*.shop.test'], priority: 10, cert: certs.shop.cert, key: certs.shop.key });
    await gw.put('domain', { name: 'api', patterns: ['api.shop.test'], priority: 1, cert: certs.api.cert, key: certs.api.key });
    await gw.put('domain', { name: 'c', patterns: ['c.test'], cert: certs.c.cert, key: certs.c.key });
    await gw.put('domain', { name: 'kinds', patterns: ['/^re[0-9]+\\.test$/', 'pre.*', '*mid*'], cert: certs.kinds.cert, key: certs.kinds.key });
    await gw.put('domain', { name: 'rest', patterns: ['*'], priority: -1 });
  });
  after(async () => {
    await gw?.close();
    await echo?.close();
  });

  it('SNI picks the certificate of the first matching domain by priority; other names get proxy.tls cert_file', async () => {
    assert.equal((await sClient(tlsPort, 'api.shop.test')).cn, 'shop.test', 'the priority-10 glob wins over the priority-1 exact name');
    assert.equal((await sClient(tlsPort, 'www.shop.test')).cn, 'shop.test');
    assert.equal((await sClient(tlsPort, 'c.test')).cn, 'c.test');
    assert.equal((await sClient(tlsPort, 'elsewhere.test')).cn, 'fallback.test');
  });

  it('regex, prefix and contains patterns get their certificate by SNI too', async () => {
    assert.equal((await sClient(tlsPort, 're42.test')).cn, 'kinds.test', 'regex');
    assert.equal((await sClient(tlsPort, 'pre.anything.test')).cn, 'kinds.test', 'prefix');
    assert.equal((await sClient(tlsPort, 'a.mid.test')).cn, 'kinds.test', 'contains');
    assert.equal((await sClient(tlsPort, 're.test')).cn, 'fallback.test', 'a name no pattern matches');
  });

  it('refuses TLS 1.1 and accepts TLS 1.2 and 1.3', async () => {
    // SECLEVEL=0 so that the client itself offers TLS 1.1: the refusal is the server's
    const old = await sClient(tlsPort, 'c.test', ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
    assert.notEqual(old.code, 0, old.out);
    assert.equal(old.cn, null, 'no certificate was sent');
    assert.match(old.out, /alert protocol version|unsupported protocol|wrong version number/i);
    const v12 = await sClient(tlsPort, 'c.test', ['-tls1_2']);
    assert.equal(v12.code, 0, v12.out);
    assert.match(v12.out, /Protocol\s*:\s*TLSv1\.2/);
    const v13 = await sClient(tlsPort, 'c.test', ['-tls1_3']);
    assert.equal(v13.code, 0, v13.out);
    assert.match(v13.out, /TLSv1\.3/);
  });

  it('curl through the TLS port reaches the upstream with X-Forwarded-Proto https; the plain port says http', async () => {
    const caFile = file('c-ca.crt', certs.c.cert);
    const r = await run('curl', ['-sS', '--cacert', caFile, '--resolve', `c.test:${tlsPort}:127.0.0.1`, `https://c.test:${tlsPort}/hello?x=1`]);
    assert.equal(r.code, 0, r.out);
    const data = JSON.parse(r.out).data;
    assert.equal(data.path, '/hello?x=1');
    assert.deepEqual(data.req_headers['X-Forwarded-Proto'], ['https']);
    const plain = await gw.proxy('/hello', { host: 'c.test' });
    assert.equal(plain.status, 200);
    assert.deepEqual(plain.json().data.req_headers['X-Forwarded-Proto'], ['http']);
  });

  it('redirect_https sends plain requests to the TLS port; requests over TLS are served', async () => {
    const res = await gw.proxy('/a/b?c=1', { host: 'secure.test' });
    assert.equal(res.status, 307);
    assert.equal(res.headers.location, `https://secure.test:${tlsPort}/a/b?c=1`);
    // -k: the fallback certificate is for fallback.test, not secure.test
    const r = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '-k', '-H', 'Host: secure.test', `https://127.0.0.1:${tlsPort}/a`]);
    assert.equal(r.out, '200 ', `over TLS: no redirect (${r.out})`);
  });

  it('a domain certificate change applies to new handshakes without a restart, and requests keep working', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(agent, tlsPort, 'c.test', [certs.c.cert, certs.c2.cert]);
      assert.equal(first.status, 200);
      const c2 = new X509Certificate(certs.c2.cert).fingerprint256;
      await gw.put('domain', { name: 'c', patterns: ['c.test'], cert: certs.c2.cert, key: certs.c2.key });
      await until(async () => (await peerCertificate(tlsPort, 'c.test')).fingerprint256 === c2, 'new handshakes to get the new certificate');
      const second = await get(agent, tlsPort, 'c.test', [certs.c.cert, certs.c2.cert]);
      assert.equal(second.status, 200);
      assert.equal((await sClient(tlsPort, 'api.shop.test')).cn, 'shop.test', 'other domains keep theirs');
    } finally {
      agent.destroy();
    }
  });

  it('a request in flight while the certificate changes is answered', async () => {
    const current = (await peerCertificate(tlsPort, 'c.test')).fingerprint256;
    const swapTo = current === new X509Certificate(certs.c.cert).fingerprint256 ? certs.c2 : certs.c;
    const target = new X509Certificate(swapTo.cert).fingerprint256;
    const reached = new Promise<void>((resolve) => (onSleep = () => resolve()));
    let swappedAt = 0;
    const slow = get(new https.Agent({ keepAlive: false }), tlsPort, 'c.test', [certs.c.cert, certs.c2.cert], '/slow?wait=5s').then((r) => ({ ...r, at: Date.now() }));
    await reached;
    await gw.put('domain', { name: 'c', patterns: ['c.test'], cert: swapTo.cert, key: swapTo.key });
    await until(async () => (await peerCertificate(tlsPort, 'c.test')).fingerprint256 === target, 'new handshakes to get the new certificate');
    swappedAt = Date.now();
    const answer = await slow;
    onSleep = null;
    assert.equal(answer.status, 200);
    assert.ok(answer.at >= swappedAt, 'the answer came after the new certificate was in use');
  });

  it('a keep-alive connection opened before a certificate change stays usable', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await get(agent, tlsPort, 'c.test', [certs.c.cert, certs.c2.cert]);
      const swapTo = before.fingerprint === new X509Certificate(certs.c.cert).fingerprint256 ? certs.c2 : certs.c;
      const target = new X509Certificate(swapTo.cert).fingerprint256;
      await gw.put('domain', { name: 'c', patterns: ['c.test'], cert: swapTo.cert, key: swapTo.key });
      await until(async () => (await peerCertificate(tlsPort, 'c.test')).fingerprint256 === target, 'new handshakes to get the new certificate');
      const afterChange = await get(agent, tlsPort, 'c.test', [certs.c.cert, certs.c2.cert]);
      assert.equal(afterChange.status, 200);
      assert.equal(afterChange.localPort, before.localPort, 'the same connection');
      assert.equal(afterChange.fingerprint, before.fingerprint, 'with the certificate of its handshake');
    } finally {
      agent.destroy();
    }
  });

  it('over TLS a 100 KiB URL is answered 414 and a 64 KiB header 431, as on the plain port', async () => {
    const status = (head: string) =>
      new Promise<number>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, servername: 'c.test', rejectUnauthorized: false }, () => socket.end(head));
        let data = '';
        socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
        // the gateway may close before it read the whole request: what it answered is what counts
        socket.on('error', () => {});
        socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
      });
    assert.equal(await status(`GET /${'u'.repeat(100 * 1024)} HTTP/1.1\r\nHost: c.test\r\n\r\n`), 414);
    assert.equal(await status(`GET / HTTP/1.1\r\nHost: c.test\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`), 431);
  });
});

/** One GET over `agent` with SNI `servername`; the connection's local port and certificate. */
function get(agent: https.Agent, port: number, servername: string, ca: string[], path = '/ka'): Promise<{ status: number; localPort: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, servername, headers: { host: servername }, ca, agent, path }, (res) => {
      const socket = res.socket as import('node:tls').TLSSocket;
      const out = { status: res.statusCode!, localPort: socket.localPort!, fingerprint: socket.getPeerCertificate().fingerprint256 };
      res.resume();
      res.on('end', () => resolve(out));
    });
    req.on('error', reject);
  });
}

describe('proxy TLS listener deadlines', () => {
  let echo: EchoServer;
  let gw: TestGateway;
  let tlsPort: number;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgate-tls-deadlines-'));
    const cert = opensslCert('deadlines.test');
    writeFileSync(join(dir, 'gw.crt'), cert.cert);
    writeFileSync(join(dir, 'gw.key'), cert.key);
    echo = await startEchoServer({});
    gw = await startTestGateway({
      proxy: { read_header_timeout: '1s', read_timeout: '2s', idle_timeout: '1s', tls: { port: 0, cert_file: join(dir, 'gw.crt'), key_file: join(dir, 'gw.key') } },
    });
    tlsPort = gw.gateway.proxyTlsPort!;
    await gw.put('service', { name: 'echo', urls: [echo.url] });
    await gw.put('route', { name: 'echo', paths: ['/*'], methods: ['*'], service: 'echo' });
  });
  after(async () => {
    await gw?.close();
    await echo?.close();
  });

  it('a request head late past read_header_timeout is answered 408 and the connection closed', async () => {
    const r = await tlsExchange(tlsPort, 'GET / HTTP/1.1\r\nHost: x');
    assert.match(r.data, /^HTTP\/1\.1 408 /);
    assert.equal(r.closed, true);
  });

  it('a request body late past read_timeout is answered 408 and the connection closed', async () => {
    const r = await tlsExchange(tlsPort, 'POST /body HTTP/1.1\r\nHost: x.test\r\nContent-Length: 10\r\n\r\nab');
    assert.match(r.data, /^HTTP\/1\.1 408 /);
    assert.equal(r.closed, true);
  });

  it('a keep-alive connection idle past idle_timeout is closed after its answer', async () => {
    const r = await tlsExchange(tlsPort, 'GET /idle HTTP/1.1\r\nHost: x.test\r\n\r\n');
    assert.match(r.data, /^HTTP\/1\.1 200 /);
    assert.equal(r.closed, true);
  });
});

/** Writes `text` on a new TLS connection; what came back until the server closed it (or 15 s passed: closed false). */
function tlsExchange(port: number, text: string): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'x.test', rejectUnauthorized: false }, () => socket.write(text));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closed: false });
    }, 15_000);
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
  });
}

describe('auto_generate, admin over TLS and dgate-cli', () => {
  let dir: string;
  let proc: ServerProcess | null = null;
  let proxyTls: number;
  let adminTls: number;
  const yaml = (ports: { proxy: number; admin: number }) => `
storage: { type: file }
proxy:
  host: 127.0.0.1
  port: ${ports.proxy}
  workers: 2
  tls: { port: ${proxyTls}, auto_generate: true }
admin:
  host: 127.0.0.1
  port: ${ports.admin}
  tls: { port: ${adminTls}, auto_generate: true }
`;
  const cliRun = (args: string[], env: Record<string, string> = {}) => run(process.execPath, [CLI_BIN, '--admin', `https://127.0.0.1:${adminTls}`, ...args], { env: { ...process.env, ...env } });

  before(async () => {
    dir = tempDir('dgate-tls-e2e-');
    proxyTls = await freePort();
    adminTls = await freePort();
    proc = await startServerProcess({ dir, yaml });
  });
  after(async () => {
    if (proc !== null) await stop(proc);
  });

  it('writes a self-signed certificate under storage.dir/tls (key mode 0600) and serves it on both TLS ports', async () => {
    const tlsDir = join(dir, '.dgate', 'tls');
    assert.equal(statSync(join(tlsDir, 'proxy.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(tlsDir, 'admin.key')).mode & 0o777, 0o600);
    const proxyFp = new X509Certificate(readFileSync(join(tlsDir, 'proxy.crt'))).fingerprint256;
    assert.equal((await peerCertificate(proxyTls, 'localhost')).fingerprint256, proxyFp);
    const adminFp = new X509Certificate(readFileSync(join(tlsDir, 'admin.crt'))).fingerprint256;
    assert.equal((await peerCertificate(adminTls, 'localhost')).fingerprint256, adminFp);
    const old = await sClient(adminTls, 'localhost', ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
    assert.notEqual(old.code, 0, 'the admin listener refuses TLS 1.1 too');
    assert.equal(old.cn, null);
  });

  it('dgate-cli talks to the admin API over TLS when told to trust its certificate (NODE_EXTRA_CA_CERTS)', async () => {
    const ca = join(dir, '.dgate', 'tls', 'admin.crt');
    const ok = await cliRun(['ns', 'mk', 'name=shop'], { NODE_EXTRA_CA_CERTS: ca });
    assert.equal(ok.code, 0, ok.out);
    const ls = await cliRun(['ns', 'ls'], { NODE_EXTRA_CA_CERTS: ca });
    assert.equal(ls.code, 0, ls.out);
    assert.deepEqual(JSON.parse(ls.out).map((n: { name: string }) => n.name).sort(), ['default', 'shop']);
    const untrusted = await cliRun(['ns', 'ls']);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.out, /cannot reach the admin API at https:\/\/127\.0\.0\.1:\d+: .*certificate/);
  });

  it('a domain private key is never shown by GET, the change log or export; the certificate is', async () => {
    const pair = opensslCert('shop.example');
    assert.equal(await putJson(proc!.adminUrl, 'domain', { name: 'shop', namespace: 'shop', patterns: ['shop.example'], cert: pair.cert, key: pair.key }), 201);
    const ca = join(dir, '.dgate', 'tls', 'admin.crt');
    const got = await cliRun(['dom', 'get', 'shop', 'namespace=shop'], { NODE_EXTRA_CA_CERTS: ca });
    assert.equal(got.code, 0, got.out);
    const exported = await cliRun(['export'], { NODE_EXTRA_CA_CERTS: ca });
    assert.equal(exported.code, 0, exported.out);
    const changelog = await run('curl', ['-sS', '--cacert', ca, `https://localhost:${adminTls}/changelog?from=0`]);
    for (const [what, text] of [['GET', got.out], ['export', exported.out], ['changelog', changelog.out]] as const) {
      assert.ok(!text.includes('PRIVATE KEY'), `${what} shows no private key`);
      assert.ok(text.includes('**redacted**'), `${what} shows the placeholder`);
    }
    assert.ok(got.out.includes(pair.cert.split('\n')[1]!), 'the certificate stays readable');
    // the exported file applies as it is: the placeholder keeps the stored key
    const exportFile = join(dir, 'export.yaml');
    writeFileSync(exportFile, exported.out);
    const edited = exported.out.replace('priority: 0', 'priority: 3');
    assert.notEqual(edited, exported.out);
    writeFileSync(exportFile, edited);
    const applied = await cliRun(['apply', '-f', exportFile], { NODE_EXTRA_CA_CERTS: ca });
    assert.equal(applied.code, 0, applied.out);
    const after = await cliRun(['dom', 'get', 'shop', 'namespace=shop'], { NODE_EXTRA_CA_CERTS: ca });
    assert.equal(JSON.parse(after.out).priority, 3, 'the domain was written');
    await until(async () => (await peerCertificate(proxyTls, 'shop.example')).subject.CN === 'shop.example', 'the workers to serve the domain certificate');
  });

  it('keeps the generated certificates across a restart', async () => {
    const before = { proxy: (await peerCertificate(proxyTls, 'localhost')).fingerprint256, admin: (await peerCertificate(adminTls, 'localhost')).fingerprint256 };
    await stop(proc!);
    proc = await startServerProcess({ dir, yaml });
    assert.equal((await peerCertificate(proxyTls, 'localhost')).fingerprint256, before.proxy);
    assert.equal((await peerCertificate(adminTls, 'localhost')).fingerprint256, before.admin);
    assert.equal((await peerCertificate(proxyTls, 'shop.example')).subject.CN, 'shop.example', 'domain certificates come back from the store');
  });
});

describe('init_resources domains with certificate files', () => {
  it('reads cert_file/key_file (relative to the config file) and serves the certificate by SNI', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgate-tls-init-'));
    const pair = opensslCert('init.test');
    writeFileSync(join(dir, 'init.crt'), pair.cert);
    writeFileSync(join(dir, 'init.key'), pair.key);
    const gw = await startTestGateway({
      storage: { dir },
      proxy: {
        tls: { port: 0, auto_generate: true },
        init_resources: { domains: [{ name: 'init', namespace: 'default', patterns: ['init.test'], cert_file: join(dir, 'init.crt'), key_file: join(dir, 'init.key') }] },
      },
    });
    try {
      assert.equal((await sClient(gw.gateway.proxyTlsPort!, 'init.test')).cn, 'init.test');
      assert.equal((await gw.admin('GET', '/api/v1/domain/init')).body.data.key, '**redacted**');
    } finally {
      await gw.close();
    }
  });

  it('a pair that cannot serve TLS, or cert with cert_file, stops start-up naming the item and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgate-tls-init-'));
    const a = opensslCert('a.test');
    const b = opensslCert('b.test');
    const start = (domain: Record<string, unknown>) =>
      startTestGateway({ storage: { dir }, proxy: { init_resources: { domains: [{ name: 'd', namespace: 'default', patterns: ['d.test'], ...domain }] } } });
    await assert.rejects(start({ cert: a.cert, key: b.key }), /init_resources\.domains\[0\]: key: does not match the certificate in cert/);
    writeFileSync(join(dir, 'a.crt'), a.cert);
    await assert.rejects(start({ cert: a.cert, cert_file: join(dir, 'a.crt'), key: a.key }), /proxy\.init_resources\.domains\[0\]\.cert_file: set cert or cert_file, not both/);
    await assert.rejects(start({ cert_file: join(dir, 'missing.crt'), key: a.key }), /proxy\.init_resources\.domains\[0\]\.cert_file: cannot read/);
  });
});

describe('a client that does not finish its TLS handshake', { timeout: 30_000 }, () => {
  it('is cut within proxy.read_header_timeout, plain TCP and half a handshake alike', async () => {
    const cert = selfSignedCert();
    const dir = mkdtempSync(join(tmpdir(), 'dgate-tls-hs-'));
    writeFileSync(join(dir, 'cert.pem'), cert.cert);
    writeFileSync(join(dir, 'key.pem'), cert.key);
    const g = await startTestGateway({ proxy: { read_header_timeout: '1s', tls: { port: 0, cert_file: join(dir, 'cert.pem'), key_file: join(dir, 'key.pem') } } });
    try {
      const port = g.gateway.proxyTlsPort!;
      const closedAfter = (first: Buffer | null) =>
        new Promise<number>((resolve) => {
          const started = Date.now();
          const s = net.connect(port, '127.0.0.1', () => {
            if (first !== null) s.write(first);
          });
          s.on('error', () => {});
          s.on('close', () => resolve(Date.now() - started));
          setTimeout(() => {
            s.destroy();
            resolve(-1);
          }, 15_000).unref();
        });
      // the first bytes of a TLS record carrying a ClientHello, and nothing after them
      const [silent, partial] = await Promise.all([closedAfter(null), closedAfter(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]))]);
      assert.ok(silent >= 0 && silent < 8_000, `a silent connection closed after ${silent} ms`);
      assert.ok(partial >= 0 && partial < 8_000, `half a handshake closed after ${partial} ms`);
    } finally {
      await g.close();
    }
  });
});

/**
 * Shell scripts written the way DGate's functional tests are (functional-tests/admin_tests,
 * which call `dgate-cli -Vf …` from PATH) run unchanged against a real gateway, and the proxy
 * then serves what they configured.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const CLI_BIN = fileURLToPath(new URL('../src/bin/dgate-cli.js', import.meta.url));

/**
 * Adapted from DGate's admin_test.sh: `uuid` replaced (not always installed), `/{}` written
 * `/{id}`, two upstream URLs, and ADMIN_URL, PROXY_URL and TEST_URL always set by the test
 * (their `${VAR:-default}` lines dropped).
 */
const ADMIN_TEST_SH = String.raw`#!/bin/bash
set -eo pipefail

DIR="$( cd "$( dirname "$0" )" && pwd )"

export DGATE_ADMIN_API=$ADMIN_URL

id=t$RANDOM$RANDOM

dgate-cli -Vf namespace create name=ns-$id

dgate-cli -Vf domain create name=dm-$id \
    namespace=ns-$id priority:=$RANDOM patterns="$id.example.com"

dgate-cli -Vf service create \
    name=svc-$id namespace=ns-$id \
    urls="$TEST_URL/$RANDOM,$TEST_URL/$RANDOM" retries:=3 retryTimeout=50ms

dgate-cli -Vf module create name=module1 \
    payload@=$DIR/admin_test.ts \
    namespace=ns-$id

dgate-cli -Vf route create \
    name=rt-$id \
    service=svc-$id \
    namespace=ns-$id \
    paths="/,/{id},/$id,/$id/{id}" \
    methods=GET,POST,PUT \
    modules=module1 \
    preserveHost:=false \
    stripPath:=false

curl -sf $ADMIN_URL/readyz > /dev/null

curl -sf $PROXY_URL/$id/$RANDOM -H Host:$id.example.com

echo
echo "Admin Test Succeeded"
`;

/** Adapted from DGate's performance_test_prep.sh: JSON lists with :=, a base64 payload in payload=. */
const PERFORMANCE_PREP_SH = String.raw`#!/bin/bash
set -eo pipefail

DIR="$( cd "$( dirname "$0" )" && pwd )"
export DGATE_ADMIN_API=$ADMIN_URL

dgate-cli -V -f namespace create \
    name=test-ns1

dgate-cli domain create \
    name=test-dm patterns:='["performance.example.com"]' \
    namespace=test-ns1 priority:=100

dgate-cli service create \
    name=test-svc urls:='["'$TEST_URL'"]' \
    namespace=test-ns1 retries:=3 retryTimeout=50ms

MOD_B64="$(base64 < $DIR/admin_test.ts)"
dgate-cli module create \
    name=test-mod payload="$MOD_B64" \
    namespace=test-ns1

dgate-cli route create \
    name=base-rt1 \
    service=test-svc \
    methods:='["GET"]' \
    paths:='["/svctest"]' \
    preserveHost:=false \
    stripPath:=true \
    namespace=test-ns1

dgate-cli route create \
    name=test-rt3 \
    paths:='["/blank"]' \
    methods:='["GET"]' \
    stripPath:=false \
    preserveHost:=false \
    namespace=test-ns1

curl -s --fail-with-body $PROXY_URL/svctest -H Host:performance.example.com

curl -s $PROXY_URL/blank -H Host:performance.example.com > /dev/null

echo
echo "Performance Test Prep Done"
`;

/** The module of admin_test.sh: logs the route's path parameters (modules are stored; they may not run yet). */
const ADMIN_TEST_TS = `// Logs the path parameters of each request, then lets the upstream response through.
export function responseModifier(ctx: any): void {
  const params = typeof ctx?.pathParams === 'function' ? ctx.pathParams() : {};
  console.log('path params', JSON.stringify(params));
}
`;

/** The scripts need bash, curl and base64, as DGate's do. */
function missingTools(): string | false {
  try {
    execFileSync('bash', ['-c', 'command -v curl && command -v base64'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'bash, curl or base64 is not installed';
  }
}

let echo: EchoServer;
let gw: TestGateway;
let dir: string;
before(async () => {
  echo = await startEchoServer();
  // DGate's functional tests run with the default namespace disabled
  gw = await startTestGateway({ disable_default_namespace: true });
  dir = mkdtempSync(join(tmpdir(), 'dgate-cli-script-'));
  // `dgate-cli` on PATH, as npm would install it
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'dgate-cli'), `#!/bin/sh\nexec "${process.execPath}" "${CLI_BIN}" "$@"\n`);
  chmodSync(join(bin, 'dgate-cli'), 0o755);
  writeFileSync(join(dir, 'admin_test.ts'), ADMIN_TEST_TS);
});
after(async () => {
  await gw.close();
  await echo.close();
});

/** Runs a script from the temp dir (async: the gateway in this process must keep answering). */
function runScript(name: string, text: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(dir, name);
  writeFileSync(file, text);
  const env = { PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`, ADMIN_URL: gw.adminUrl, PROXY_URL: gw.proxyUrl, TEST_URL: echo.url, HOME: dir };
  return new Promise((resolve) => {
    execFile('bash', [file], { env, cwd: dir, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

describe('DGate functional test scripts', { skip: missingTools() }, () => {
  it('admin_test.sh: namespace, domain, service, module, route, then a 2xx through the proxy', async () => {
    const r = await runScript('admin_test.sh', ADMIN_TEST_SH);
    assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /Admin Test Succeeded\n$/);
    // the proxied answer is the echo server's description of the request it received
    const echoed = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"data"'))!);
    assert.match(echoed.data.path, /^\/\d+\/t\d+\/\d+$/, 'service path, then the request path (no stripPath)');
    // -V printed one line per request on stderr
    const verbose = r.stderr.split('\n').filter((l) => l.startsWith('PUT '));
    assert.equal(verbose.length, 5);
    for (const line of verbose) assert.match(line, / - 201 [\d.]+m?s$/);
    // what the script configured, as the admin API shows it
    const ns = (await gw.admin('GET', '/api/v1/namespace')).body.data.map((n: { name: string }) => n.name);
    const id = ns.find((n: string) => n.startsWith('ns-')).slice(3);
    const route = (await gw.admin('GET', `/api/v1/route/rt-${id}?namespace=ns-${id}`)).body.data;
    assert.deepEqual(route.methods, ['GET', 'POST', 'PUT']);
    assert.deepEqual(route.modules, ['module1']);
    const mod = (await gw.admin('GET', `/api/v1/module/module1?namespace=ns-${id}`)).body.data;
    assert.equal(Buffer.from(mod.payload, 'base64').toString('utf8'), ADMIN_TEST_TS);
    const svc = (await gw.admin('GET', `/api/v1/service/svc-${id}?namespace=ns-${id}`)).body.data;
    assert.equal(svc.urls.length, 2);
    assert.equal(svc.retryTimeout, 50_000_000);
  });

  it('performance_test_prep.sh: JSON lists, a line-wrapped base64 payload, a route with stripPath', async () => {
    const r = await runScript('performance_test_prep.sh', PERFORMANCE_PREP_SH);
    assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /Performance Test Prep Done\n$/);
    const echoed = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"data"'))!);
    assert.equal(echoed.data.path, '/', 'stripPath: /svctest is sent as the service path');
    assert.equal(echoed.data.host, new URL(echo.url).host);
  });
});

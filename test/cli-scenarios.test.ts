/**
 * DGate's functional module scenarios (§9) as bash scripts in DGate's style: `dgate-cli -Vf`
 * from PATH configures a real in-process gateway, then `curl` checks the proxy. The scripts and
 * the module sources they load live in test/fixtures/scripts. Local servers stand in for the
 * internet services the original scripts called, passed to the scripts as env vars:
 *   TEST_URL  the echo server          GEO_URL   /json/<ip> → geo data (ip-api.com)
 *   UUID_URL  /uuid → {uuid}           JSON_URL  /one, /two → small JSON bodies
 *   DEAD_URL  nothing listens there
 * Each script works in a namespace of its own (random suffix) behind its own domain.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../src/testserver/echo.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { closeGateway, sendJson, startUpstream, type Upstream } from './support/modules-harness.js';
import { REFUSING_URL } from './support/refusing.js';
import { BUN_LIMITS, unlessBun } from './support/runtime.js';

const CLI_BIN = fileURLToPath(new URL('../src/bin/dgate-cli.js', import.meta.url));
/** test/fixtures is not compiled: the scripts are read from the source tree. */
const SCRIPTS = fileURLToPath(new URL('../../test/fixtures/scripts/', import.meta.url));

const UUID = '3f8e1c2a-9b7d-4e6f-8a5b-1c2d3e4f5a6b';

/** The scripts need bash, curl, grep, sed and sha1sum. */
function missingTools(): string | false {
  try {
    execFileSync('bash', ['-c', 'command -v curl && command -v grep && command -v sed && command -v sha1sum'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'bash, curl, grep, sed or sha1sum is not installed';
  }
}

let echo: EchoServer;
let internet: Upstream;
const dead = REFUSING_URL;
let gw: TestGateway;
let dir: string;

before(async () => {
  echo = await startEchoServer();
  internet = await startUpstream((hit, res) => {
    const path = hit.url.split('?')[0]!;
    if (path === '/uuid') return sendJson(res, 200, { uuid: UUID });
    if (path === '/one') return sendJson(res, 200, { alpha: 1 });
    if (path === '/two') return sendJson(res, 200, { beta: [2] });
    if (path.startsWith('/json/')) {
      const ip = path.slice('/json/'.length);
      return sendJson(res, 200, { status: 'success', country: 'Australia', countryCode: 'AU', regionName: 'Queensland', city: 'Brisbane', query: ip });
    }
    sendJson(res, 404, { error: 'not found' });
  });
  // DGate's functional tests run with the default namespace disabled
  gw = await startTestGateway({ disable_default_namespace: true });
  dir = mkdtempSync(join(tmpdir(), 'dgate-cli-scenarios-'));
  // `dgate-cli` on PATH, as npm would install it
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'dgate-cli'), `#!/bin/sh\nexec "${process.execPath}" "${CLI_BIN}" "$@"\n`);
  chmodSync(join(bin, 'dgate-cli'), 0o755);
});

after(async () => {
  await closeGateway(gw);
  await echo?.close();
  await internet?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a script in place (async: the gateway in this process must keep answering). */
function runScript(name: string): Promise<ScriptResult> {
  const env = {
    PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`,
    HOME: dir,
    TMPDIR: dir,
    ADMIN_URL: gw.adminUrl,
    PROXY_URL: gw.proxyUrl,
    TEST_URL: echo.url,
    GEO_URL: internet.url,
    UUID_URL: internet.url,
    JSON_URL: internet.url,
    DEAD_URL: dead,
    EXPECTED_UUID: UUID,
  };
  return new Promise((resolve) => {
    execFile('bash', [join(SCRIPTS, name)], { env, cwd: dir, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

function assertPassed(r: ScriptResult, lastLine: RegExp): void {
  assert.equal(r.code, 0, `script failed (exit ${r.code}):\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.match(r.stdout, lastLine);
  // -V printed one line per admin request, all of them successful
  const verbose = r.stderr.split('\n').filter((l) => /^(PUT|GET) /.test(l));
  assert.ok(verbose.length > 0, r.stderr);
  for (const line of verbose) assert.match(line, / - 20[01] [\d.]+m?s$/);
}

// Seven scripts of at most 60 s each: the suite's limit leaves each its own, so a loaded machine only makes it slower.
describe('DGate functional module scenarios through dgate-cli', { skip: missingTools(), timeout: 480_000 }, () => {
  it('change_checker.sh: a module re-created by name answers "module2" from the very next request', async () => {
    assertPassed(await runScript('change_checker.sh'), /Change Checker Test Passed\n$/);
  });

  it('iphash_load_balancer_test.sh: clients with and without X-Forwarded-For land on different service URLs', async () => {
    assertPassed(await runScript('iphash_load_balancer_test.sh'), /IP Hash Load Balancer Test Passed\n$/);
  });

  it('merge_responses_test.sh: a no-service requestHandler merges three fetches', async () => {
    const before = internet.hits.length;
    assertPassed(await runScript('merge_responses_test.sh'), /Merge Responses Test Passed\n$/);
    assert.ok(internet.hits.slice(before).some((h) => h.url === '/one'), 'the module fetched the local JSON server');
  });

  it('modify_request_test.sh: a requestModifier adds X-Geo-* headers from a geo lookup', async () => {
    const before = internet.hits.length;
    assertPassed(await runScript('modify_request_test.sh'), /Modify Request Test Passed\n$/);
    assert.ok(internet.hits.slice(before).some((h) => h.url === '/json/1.1.1.1'), 'the module looked up the forwarded address');
  });

  it('modify_response_test.sh: a responseModifier adds a fetched uuid; the errorHandler answers 500 JSON', async () => {
    assertPassed(await runScript('modify_response_test.sh'), /Modify Response Test Passed\n$/);
  });

  it('multi_module_test.sh: a re-exported requestModifier runs once; the responseModifier rewrites the body', unlessBun(BUN_LIMITS.getWithBody), async () => {
    assertPassed(await runScript('multi_module_test.sh'), /Multi Module Test Passed\n$/);
  });

  it('url_shortener_test.sh: POST stores a link document, GET /<id> redirects with 307', async () => {
    assertPassed(await runScript('url_shortener_test.sh'), /URL Shortener Test Passed\n$/);
  });
});

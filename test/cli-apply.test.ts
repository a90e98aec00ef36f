/**
 * `dgate-cli apply` and `dgate-cli export` against a real gateway: creating from a file,
 * idempotence, dry runs, pruning, round trips through export, and failures.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { cli } from './support/cli-run.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { REFUSING_URL } from './support/refusing.js';

const MODULE_SOURCE = 'export function requestModifier(ctx: any): void {}\n';

/** A file using every section, a payload_file, a duration string and lower-case methods. */
const APP_YAML = `
namespaces:
  - name: app
    tags: [team-a]
modules:
  - name: m1
    namespace: app
    payload_file: m1.ts
services:
  - name: api
    namespace: app
    urls: [http://127.0.0.1:3000]
    retryTimeout: 50ms
routes:
  - name: r1
    namespace: app
    paths: ["/api/*"]
    methods: [get, POST]
    service: api
    modules: [m1]
    stripPath: true
  - name: r2
    namespace: app
    paths: [/health]
    methods: ["*"]
    service: api
domains:
  - name: d1
    namespace: app
    patterns: [app.example.com]
    priority: 10
collections:
  - name: links
    namespace: app
    schema: {type: object, properties: {url: {type: string}}}
documents:
  - id: home
    namespace: app
    collection: links
    data: {url: "https://example.com"}
secrets:
  - name: token
    namespace: app
    data: s3cret
`;

let gw: TestGateway;
let dir: string;
beforeEach(async () => {
  gw = await startTestGateway();
  dir = mkdtempSync(join(tmpdir(), 'dgate-cli-apply-'));
  writeFileSync(join(dir, 'm1.ts'), MODULE_SOURCE);
});
afterEach(() => gw.close());

function run(...args: string[]) {
  return cli(args, { admin: gw.adminUrl, cwd: dir });
}

async function ok(...args: string[]) {
  const r = await run(...args);
  assert.equal(r.code, 0, `dgate-cli ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

async function rev(): Promise<number> {
  return (await gw.admin('GET', '/changelog')).body.rev;
}

async function get(path: string) {
  return (await gw.admin('GET', `/api/v1/${path}`)).body.data;
}

describe('apply', () => {
  it('creates everything in dependency order and says what it did', async () => {
    const r = await ok('apply', '-f', file('app.yaml', APP_YAML));
    assert.equal(r.stdout, [
      'namespace app: created',
      'module app/m1: created',
      'service app/api: created',
      'route app/r1: created',
      'route app/r2: created',
      'domain app/d1: created',
      'collection app/links: created',
      'document app/links/home: created',
      'secret app/token: created',
      '9 created, 0 updated, 0 deleted, 0 unchanged.',
      '',
    ].join('\n'));
    assert.equal(Buffer.from((await get('module/m1?namespace=app')).payload, 'base64').toString('utf8'), MODULE_SOURCE, 'payload_file is read and base64-encoded');
    assert.equal((await get('service/api?namespace=app')).retryTimeout, 50_000_000);
    assert.deepEqual((await get('route/r1?namespace=app')).methods, ['GET', 'POST']);
    assert.deepEqual((await get('document/home?namespace=app&collection=links')).data, { url: 'https://example.com' });
  });

  it('is idempotent: the second run changes nothing but the secret, which cannot be compared', async () => {
    await ok('apply', '-f', file('app.yaml', APP_YAML));
    const before = await rev();
    const r = await ok('apply', '-f', 'app.yaml');
    assert.match(r.stdout, /^namespace app: unchanged\n/);
    assert.match(r.stdout, /\nsecret app\/token: written \(secrets cannot be read back to compare\)\n/);
    assert.match(r.stdout, /\nNo changes \(8 unchanged, 1 written without comparing\)\.\n$/);
    assert.equal(await rev(), before + 1, 'only the secret was written');
  });

  it('a file without secret values changes nothing at all the second time', async () => {
    const noSecrets = APP_YAML.slice(0, APP_YAML.indexOf('secrets:'));
    await ok('apply', '-f', file('app.yaml', noSecrets));
    const before = await rev();
    const r = await ok('apply', '-f', 'app.yaml');
    assert.match(r.stdout, /\nNo changes \(8 unchanged\)\.\n$/);
    assert.equal(await rev(), before);
  });

  it('updates only what differs and names the changed fields', async () => {
    await ok('apply', '-f', file('app.yaml', APP_YAML));
    const changed = APP_YAML.replace('retryTimeout: 50ms', 'retryTimeout: 1s\n    retries: 5').replace('priority: 10', 'priority: 10\n    tags: [x]');
    const r = await ok('apply', '-f', file('app2.yaml', changed));
    assert.match(r.stdout, /\nservice app\/api: updated \(retries, retryTimeout\)\n/);
    assert.match(r.stdout, /\ndomain app\/d1: updated \(tags\)\n/);
    assert.match(r.stdout, /\nroute app\/r1: unchanged\n/);
    assert.match(r.stdout, /\n0 created, 2 updated, 0 deleted, 6 unchanged, 1 written without comparing\.\n$/);
    assert.equal((await get('service/api?namespace=app')).retries, 5);
  });

  it('reads JSON files too, and items without a namespace go to "default"', async () => {
    const json = JSON.stringify({ services: [{ name: 's', urls: ['http://127.0.0.1:1'] }] });
    const r = await ok('apply', '-f', file('x.json', json));
    assert.equal(r.stdout, 'service default/s: created\n1 created, 0 updated, 0 deleted, 0 unchanged.\n');
  });
});

describe('apply --dry-run', () => {
  it('prints the plan and changes nothing', async () => {
    const first = await ok('apply', '--dry-run', '-f', file('app.yaml', APP_YAML));
    assert.match(first.stdout, /^\+ namespace app\n\+ module app\/m1\n/);
    assert.match(first.stdout, /\nDry run: 9 to create, 0 to update, 0 to delete, 0 unchanged\. Nothing was changed\.\n$/);
    assert.equal((await gw.admin('GET', '/api/v1/namespace/app')).status, 404);

    await ok('apply', '-f', 'app.yaml');
    const before = await rev();
    const edited = APP_YAML.replace('urls: [http://127.0.0.1:3000]', 'urls: [http://127.0.0.1:3001]').replace(/ {2}- name: r2[\s\S]*?service: api\n/, '');
    const plan = await ok('apply', '--dry-run', '--prune', '-f', file('edited.yaml', edited));
    assert.equal(plan.stdout, [
      '~ service app/api: urls',
      '? secret app/token: unknown (secrets cannot be read back to compare; apply writes it)',
      '- route app/r2',
      'Dry run: 0 to create, 1 to update, 1 to delete, 6 unchanged, 1 unknown. Nothing was changed.',
      '',
    ].join('\n'));
    assert.equal(await rev(), before);
  });
});

describe('apply --prune', () => {
  it('deletes what the file no longer lists, only in the namespaces it names, in reverse dependency order', async () => {
    await ok('apply', '-f', file('app.yaml', APP_YAML));
    // another namespace the file does not name, and an extra route in "app"
    await gw.put('namespace', { name: 'other' });
    await gw.put('service', { name: 'keep', namespace: 'other', urls: ['http://127.0.0.1:1'] });
    await gw.put('route', { name: 'extra', namespace: 'app', paths: ['/x'], methods: ['GET'], service: 'api' });

    const only = `namespaces: [{name: app}]\nservices: [{name: api, namespace: app, urls: ["http://127.0.0.1:3000"], retryTimeout: 50ms}]\n`;
    const r = await ok('apply', '--prune', '-f', file('only.yaml', only));
    assert.equal(r.stdout, [
      'namespace app: updated (tags)',
      'service app/api: unchanged',
      'secret app/token: deleted',
      'document app/links/home: deleted',
      'collection app/links: deleted',
      'domain app/d1: deleted',
      'route app/extra: deleted',
      'route app/r1: deleted',
      'route app/r2: deleted',
      'module app/m1: deleted',
      '0 created, 1 updated, 8 deleted, 1 unchanged.',
      '',
    ].join('\n'));
    assert.deepEqual((await get('route?namespace=app')), []);
    assert.equal((await get('service/keep?namespace=other')).name, 'keep', 'a namespace the file does not name is left alone');
    assert.equal((await gw.admin('GET', '/api/v1/namespace/app')).status, 200);
  });

  it('without --prune nothing is deleted', async () => {
    await ok('apply', '-f', file('app.yaml', APP_YAML));
    const r = await ok('apply', '-f', file('ns.yaml', 'namespaces: [{name: app, tags: [team-a]}]\n'));
    assert.equal(r.stdout, 'namespace app: unchanged\nNo changes (1 unchanged).\n');
    assert.equal((await get('route?namespace=app')).length, 2);
  });
});

describe('export', () => {
  it('writes a clean file: sections in dependency order, items sorted, keys in field order, secrets redacted', async () => {
    await ok('apply', '-f', file('app.yaml', APP_YAML));
    await gw.put('route', { name: 'a0', namespace: 'app', paths: ['/a'], methods: ['GET'] });
    const r = await ok('export', '--namespace', 'app');
    const exported = parseYaml(r.stdout);
    assert.deepEqual(Object.keys(exported), ['namespaces', 'modules', 'services', 'routes', 'domains', 'collections', 'documents', 'secrets']);
    assert.deepEqual(exported.namespaces, [{ name: 'app', tags: ['team-a'] }]);
    assert.deepEqual(exported.routes.map((x: { name: string }) => x.name), ['a0', 'r1', 'r2']);
    assert.deepEqual(Object.keys(exported.routes[1]), ['name', 'namespace', 'paths', 'methods', 'service', 'modules', 'stripPath', 'preserveHost']);
    assert.deepEqual(exported.services[0], {
      name: 'api', namespace: 'app', urls: ['http://127.0.0.1:3000'], retries: 3, retryTimeout: 50_000_000, connectTimeout: 0, requestTimeout: 0,
      tlsSkipVerify: false, http2Only: false, hideDGateHeaders: false, disableQueryParams: false,
    });
    assert.deepEqual(exported.documents, [{ id: 'home', namespace: 'app', collection: 'links', data: { url: 'https://example.com' } }], 'no server timestamps');
    assert.deepEqual(exported.secrets, [{ name: 'token', namespace: 'app', data: '**redacted**' }]);
    assert.match(r.stdout, /\n# secret values cannot be read back: "\*\*redacted\*\*" keeps the stored value when applied\nsecrets:\n/);
    assert.equal((await ok('export', '--namespace', 'app')).stdout, r.stdout, 'the same state exports the same text');
  });

  it('export then apply of the export is a no-op (secrets included)', async () => {
    await ok('apply', '-f', file('app.yaml', APP_YAML));
    await ok('export', '-o', 'all.yaml');
    const before = await rev();
    const r = await ok('apply', '--prune', '-f', 'all.yaml');
    assert.match(r.stdout, /\nNo changes \(\d+ unchanged\)\.\n$/);
    assert.doesNotMatch(r.stdout, /created|updated|deleted|written/);
    assert.equal(await rev(), before);
    assert.ok(readFileSync(join(dir, 'all.yaml'), 'utf8').startsWith('namespaces:\n  - name: app\n'));
  });

  it('the export applied to an empty gateway recreates the state, secrets aside', async () => {
    await ok('apply', '-f', file('app.yaml', APP_YAML.slice(0, APP_YAML.indexOf('secrets:'))));
    await ok('export', '--format', 'json', '-o', 'state.json');
    const other = await startTestGateway();
    try {
      const applied = await cli(['apply', '-f', 'state.json'], { admin: other.adminUrl, cwd: dir });
      assert.equal(applied.code, 0, applied.stderr);
      const again = await cli(['export', '--format', 'json'], { admin: other.adminUrl, cwd: dir });
      assert.equal(again.stdout, readFileSync(join(dir, 'state.json'), 'utf8'));
    } finally {
      await other.close();
    }
  });

  it('-o FILE.json writes JSON; a missing namespace is the server’s 404', async () => {
    await ok('export', '-o', 'out.json');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')), { namespaces: [{ name: 'default', tags: ['default'] }] });
    const r = await run('export', '--namespace', 'ghost');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'dgate-cli: 404 error from server: namespace not found: ghost\n');
  });

  it('documents of private collections cannot be read: left out, with a note', async () => {
    await gw.put('collection', { name: 'hidden', visibility: 'private' });
    await gw.admin('PUT', '/api/v1/document/d1?collection=hidden', { a: 1 });
    const r = await ok('export');
    assert.equal(r.stderr, 'dgate-cli: export: documents of private collection default/hidden cannot be read through the admin API and are left out\n');
    assert.equal(parseYaml(r.stdout).documents, undefined);
    // applying that export again does not prune the unreadable document
    writeFileSync(join(dir, 'x.yaml'), r.stdout);
    await ok('apply', '--prune', '-f', 'x.yaml');
    assert.equal((await gw.admin('GET', '/api/v1/document/d1?collection=hidden')).status, 403, 'still there (private)');
  });
});

describe('apply failures', () => {
  it('stops at the first failed request, naming the item; what came before stays', async () => {
    const bad = `namespaces: [{name: app}]\nroutes:\n  - {name: bad, namespace: app, paths: [/], methods: [GET], service: nope}\n  - {name: later, namespace: app, paths: [/l], methods: [GET]}\n`;
    const r = await run('apply', '-f', file('bad.yaml', bad));
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'namespace app: created\n');
    assert.equal(r.stderr, 'dgate-cli: apply stopped at route app/bad: 422 error from server: service not found: nope\n');
    assert.equal((await gw.admin('GET', '/api/v1/route/later?namespace=app')).status, 404);
  });

  it('a secret given as the placeholder must exist', async () => {
    const r = await run('apply', '-f', file('s.yaml', 'secrets: [{name: k, data: "**redacted**"}]\n'));
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'dgate-cli: secret default/k: data is the placeholder "**redacted**" but the secret does not exist; put its value in the file\n');
  });

  it('malformed files are usage errors (exit 2) naming the problem; nothing is sent', async () => {
    const before = await rev();
    const cases: Array<[string, string]> = [
      ['plugins: []\n', 'unknown section "plugins" (expected namespaces, modules, services, routes, domains, collections, documents, secrets)'],
      ['routes: {name: r}\n', 'routes: expected a list'],
      ['routes: [{name: r, paths: [/], methods: [GET], stripPaths: true}]\n', 'routes[0]: unknown field(s) for route: stripPaths'],
      ['services: [{urls: [http://a]}]\n', 'services[0]: name is required (as text)'],
      ['namespaces: [{name: a}, {name: a}]\n', 'namespaces[1]: namespace a is already listed as namespaces[0]'],
      ['modules: [{name: m, payload_file: gone.ts}]\n', 'modules[0].payload_file: cannot read /'],
      ['namespaces: [name: a\n', 'not valid YAML: '],
    ];
    for (const [text, message] of cases) {
      const r = await run('apply', '-f', file('f.yaml', text));
      assert.equal(r.code, 2, text);
      assert.ok(r.stderr.startsWith(`dgate-cli: f.yaml: ${message}`), `${text}: ${r.stderr}`);
      if (text.includes('gone.ts')) assert.match(r.stderr, /cannot read \/\S+\/gone\.ts: file not found\n/);
      assert.match(r.stderr, /\nRun 'dgate-cli apply --help' for usage\.\n$/);
    }
    assert.equal(await rev(), before);
  });

  it('bad flags, a missing file and an unreachable server', async () => {
    assert.equal((await run('apply')).stderr, "dgate-cli: missing the file to apply (-f FILE)\nRun 'dgate-cli apply --help' for usage.\n");
    assert.equal((await run('apply', '-f', 'nope.yaml')).stderr, "dgate-cli: nope.yaml: cannot read it: no such file\nRun 'dgate-cli apply --help' for usage.\n");
    assert.equal((await run('apply', '-f', 'x', '--force')).code, 2);
    assert.equal((await run('export', '--format', 'toml')).code, 2);
    const r = await cli(['apply', '-f', file('ok.yaml', 'namespaces: [{name: a}]\n')], { admin: REFUSING_URL, cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^dgate-cli: cannot reach the admin API at http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  });
});

/**
 * dgate-cli's resource verbs (create, get, list, delete and their aliases) for every kind,
 * against a real gateway: what is sent, what is printed, and the namespace selection.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SPECS_IN_ORDER } from '../src/cli/resources/index.js';
import { cli } from './support/cli-run.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { selfSignedCertificate } from '../src/tls/self-signed.js';

let gw: TestGateway;
let admin: string;
let dir: string;
before(async () => {
  gw = await startTestGateway();
  admin = gw.adminUrl;
  dir = mkdtempSync(join(tmpdir(), 'dgate-cli-'));
});
after(() => gw.close());

/** Runs dgate-cli against the test gateway; fails the test unless it exits 0. */
async function ok(...args: string[]) {
  const r = await cli(args, { admin, cwd: dir });
  assert.equal(r.code, 0, `dgate-cli ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

describe('namespaces', () => {
  it('create prints the stored item; get, list and a positional delete work', async () => {
    assert.deepEqual((await ok('namespace', 'create', 'name=ns-a', 'tags=x,y')).json(), { name: 'ns-a', tags: ['x', 'y'] });
    assert.deepEqual((await ok('ns', 'get', 'name=ns-a')).json(), { name: 'ns-a', tags: ['x', 'y'] });
    assert.deepEqual((await ok('ns', 'get', 'ns-a')).json(), { name: 'ns-a', tags: ['x', 'y'] });
    assert.ok((await ok('ns', 'ls')).json().some((n: { name: string }) => n.name === 'ns-a'));
    const removed = await ok('ns', 'rm', 'ns-a');
    assert.equal(removed.stdout, '', 'delete prints nothing');
    assert.equal((await gw.admin('GET', '/api/v1/namespace/ns-a')).status, 404);
  });

  it('delete also takes name= (the other kinds’ form)', async () => {
    await ok('ns', 'mk', 'name=ns-b');
    await ok('namespace', 'delete', 'name=ns-b');
    assert.equal((await gw.admin('GET', '/api/v1/namespace/ns-b')).status, 404);
  });
});

describe('output', () => {
  it('is compact JSON with a final newline when piped, indented by 2 on a terminal', async () => {
    await ok('ns', 'mk', 'name=out');
    const piped = await ok('ns', 'get', 'out');
    assert.equal(piped.stdout, '{"name":"out"}\n');
    const tty = await cli(['ns', 'get', 'out'], { admin, isTTY: true });
    assert.equal(tty.stdout, '{\n  "name": "out"\n}\n');
  });
});

describe('services, routes, domains and modules in a namespace', () => {
  before(async () => {
    await ok('ns', 'mk', 'name=app');
  });

  it('service create converts lists, integers, booleans and passes durations to the server', async () => {
    const svc = (await ok('svc', 'mk', 'name=s1', 'namespace=app', 'urls=http://a.test,http://b.test', 'retries=2', 'retryTimeout=50ms', 'tlsSkipVerify=true')).json();
    assert.deepEqual(svc.urls, ['http://a.test', 'http://b.test']);
    assert.equal(svc.retries, 2);
    assert.equal(svc.retryTimeout, 50_000_000, 'the server parsed "50ms"');
    assert.equal(svc.tlsSkipVerify, true);
    assert.equal(svc.namespace, 'app');
  });

  it('module create with payload@=file sends the file base64-encoded', async () => {
    const source = 'export function requestModifier(ctx: any) {}\n';
    writeFileSync(join(dir, 'm1.ts'), source);
    const mod = (await ok('mod', 'mk', 'name=m1', 'namespace=app', 'payload@=m1.ts')).json();
    assert.equal(Buffer.from(mod.payload, 'base64').toString('utf8'), source);
    assert.equal(mod.moduleType, 'typescript');
  });

  it('route create takes raw JSON with := and comma lists with =', async () => {
    const rt = (await ok('rt', 'mk', 'name=r1', 'namespace=app', 'paths:=["/","/{id}"]', 'methods=GET,post', 'service=s1', 'modules=m1', 'stripPath:=true', 'preserveHost=false')).json();
    assert.deepEqual(rt, {
      name: 'r1', namespace: 'app', paths: ['/', '/{id}'], methods: ['GET', 'POST'], preserveHost: false, stripPath: true, service: 's1', modules: ['m1'],
    });
  });

  it('domain create with priority:= and patterns:=', async () => {
    const dom = (await ok('dom', 'mk', 'name=d1', 'namespace=app', 'priority:=100', 'patterns:=["x.example.com"]')).json();
    assert.deepEqual(dom, { name: 'd1', namespace: 'app', patterns: ['x.example.com'], priority: 100 });
  });

  it('list and get use namespace=; without it the server’s default namespace', async () => {
    assert.deepEqual((await ok('route', 'list', 'namespace=app')).json().map((r: { name: string }) => r.name), ['r1']);
    assert.deepEqual((await ok('route', 'list')).json(), [], 'the default namespace has no routes');
    assert.equal((await ok('route', 'get', 'r1', 'namespace=app')).json().service, 's1');
  });

  it('delete removes items in dependency order, by name= or positional name', async () => {
    await ok('rt', 'rm', 'name=r1', 'namespace=app');
    await ok('svc', 'rm', 's1', 'namespace=app');
    await ok('mod', 'rm', 'name=m1', 'namespace=app');
    await ok('dom', 'rm', 'name=d1', 'namespace=app');
    for (const kind of ['route', 'service', 'module', 'domain']) {
      assert.deepEqual((await ok(kind, 'ls', 'namespace=app')).json(), [], `${kind}s are gone`);
    }
  });
});

describe('collections, documents and secrets', () => {
  it('collection create, get and delete (DGate’s CLI could not delete collections)', async () => {
    const col = (await ok('col', 'mk', 'name=c1', 'schema:={"type":"object","properties":{"url":{"type":"string"}}}')).json();
    assert.equal(col.visibility, 'public');
    assert.deepEqual((await ok('collection', 'get', 'c1')).json().schema.properties, { url: { type: 'string' } });
    await ok('col', 'rm', 'name=c1');
    assert.equal((await gw.admin('GET', '/api/v1/collection/c1')).status, 404);
  });

  it('document create, get, list (the array of documents) and delete', async () => {
    await ok('col', 'mk', 'name=links');
    const doc = (await ok('doc', 'mk', 'id=a1', 'collection=links', 'data:={"url":"https://example.com"}')).json();
    assert.deepEqual([doc.id, doc.collection, doc.namespace, doc.data], ['a1', 'links', 'default', { url: 'https://example.com' }]);
    await ok('document', 'create', 'id=a2', 'collection=links', 'data=plain text');
    assert.equal((await ok('doc', 'get', 'a2', 'collection=links')).json().data, 'plain text');
    assert.deepEqual((await ok('doc', 'ls', 'collection=links')).json().map((d: { id: string }) => d.id), ['a1', 'a2']);
    assert.deepEqual((await ok('doc', 'ls', 'collection=links', 'limit=1', 'offset=1')).json().map((d: { id: string }) => d.id), ['a2']);
    await ok('doc', 'rm', 'id=a1', 'collection=links');
    assert.deepEqual((await ok('doc', 'ls', 'collection=links')).json().map((d: { id: string }) => d.id), ['a2']);
  });

  it('document delete --all empties the collection, which can then be deleted', async () => {
    await ok('col', 'mk', 'name=bulk');
    for (const id of ['x', 'y', 'z']) await ok('doc', 'mk', `id=${id}`, 'collection=bulk', `data:={"n":"${id}"}`);
    await ok('doc', 'rm', '--all', 'collection=bulk');
    assert.deepEqual((await ok('doc', 'ls', 'collection=bulk')).json(), []);
    await ok('col', 'rm', 'bulk');
  });

  it('documents are listed across pages', async () => {
    await ok('col', 'mk', 'name=many');
    const ids = Array.from({ length: 1005 }, (_, i) => `d${String(i).padStart(4, '0')}`);
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(ids.slice(i, i + 100).map((id) => gw.admin('PUT', `/api/v1/document/${id}?collection=many`, { i: id })));
    }
    const listed = (await ok('doc', 'ls', 'collection=many')).json();
    assert.equal(listed.length, 1005);
    assert.equal(listed[1004].id, 'd1004');
  });

  it('secret create prints the stored item with data redacted', async () => {
    const sec = (await ok('sec', 'mk', 'name=token', 'data=s3cret')).json();
    assert.deepEqual(sec, { name: 'token', namespace: 'default', data: '**redacted**' });
    assert.equal((await ok('secret', 'get', 'token')).json().data, '**redacted**');
    await ok('sec', 'rm', 'token');
  });
});

describe('the CLI’s field tables match the server', () => {
  /** a domain's certificate and key must serve TLS together */
  const PAIR = selfSignedCertificate({ commonName: 'f.test', hosts: ['f.test'], days: 1 });
  /** A value of each field for a full item (references point at items created first). */
  const FULL: Record<string, string[]> = {
    namespace: ['name=full', 'tags=a,b'],
    module: ['name=fm', 'namespace=full', 'payload=ZXhwb3J0IHt9Owo=', 'moduleType=javascript', 'tags=t'],
    service: ['name=fs', 'namespace=full', 'urls=http://a.test', 'retries=1', 'retryTimeout=1s', 'connectTimeout=2s', 'requestTimeout=3s',
      'tlsSkipVerify=true', 'http2Only=false', 'hideDGateHeaders=true', 'disableQueryParams=true', 'tags=t'],
    route: ['name=fr', 'namespace=full', 'paths=/a', 'methods=GET', 'service=fs', 'modules=fm', 'stripPath=true', 'preserveHost=true', 'tags=t'],
    domain: ['name=fd', 'namespace=full', 'patterns=f.test', 'priority=5', `cert=${PAIR.cert}`, `key=${PAIR.key}`, 'tags=t'],
    collection: ['name=fc', 'namespace=full', 'schema:={}', 'visibility=public', 'type=document', 'tags=t'],
    document: ['id=fdoc', 'namespace=full', 'collection=fc', 'data:={"a":1}'],
    secret: ['name=fsec', 'namespace=full', 'data=x', 'tags=t'],
  };

  it('every field the CLI knows is accepted, and the server answers no field the CLI does not know', async () => {
    for (const spec of SPECS_IN_ORDER) {
      const stored = (await ok(spec.kind, 'create', ...FULL[spec.kind]!)).json();
      const known = spec.fields.map((f) => f.name);
      const extra = spec.kind === 'document' ? ['createdAt', 'updatedAt'] : [];
      assert.deepEqual(Object.keys(stored).sort(), [...known, ...extra].sort(), spec.kind);
    }
  });

  it('the defaults the CLI compares with are the server’s', async () => {
    await ok('ns', 'mk', 'name=defaults');
    const minimal: Record<string, string[]> = {
      module: ['payload=ZXhwb3J0IHt9Owo='], service: ['urls=http://a.test'], route: ['paths=/', 'methods=GET'], domain: ['patterns=d.test'], collection: [],
    };
    for (const spec of SPECS_IN_ORDER) {
      const args = minimal[spec.kind];
      if (args === undefined) continue;
      const stored = (await ok(spec.kind, 'create', `name=d-${spec.kind}`, 'namespace=defaults', ...args)).json();
      for (const f of spec.fields) {
        if (f.default !== undefined) assert.deepEqual(stored[f.name], f.default, `${spec.kind}.${f.name}`);
      }
    }
  });
});

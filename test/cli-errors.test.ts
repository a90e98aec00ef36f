/**
 * How dgate-cli fails: usage errors (exit 2, one line and a pointer to --help), errors answered
 * by the server (exit 1, the server's status and message) and an unreachable server (exit 1).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli } from './support/cli-run.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { REFUSING_PORT } from './support/refusing.js';

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway();
});
after(() => gw.close());

/** Runs dgate-cli and checks its exit code and its whole stderr. */
async function fails(args: string[], code: number, stderr: string | RegExp) {
  const r = await cli(args, { admin: gw.adminUrl });
  assert.equal(r.code, code, `exit code of dgate-cli ${args.join(' ')} (stderr: ${r.stderr})`);
  if (typeof stderr === 'string') assert.equal(r.stderr, stderr);
  else assert.match(r.stderr, stderr);
  assert.equal(r.stdout, '');
  return r;
}

describe('usage errors exit 2 with one line and where the help is', () => {
  it('unknown fields are named together', async () => {
    await fails(['route', 'create', 'name=r', 'paths=/', 'methods=GET', 'stripPaths:=true', 'colour=red'], 2,
      "dgate-cli: unknown field(s) for route: stripPaths, colour\nRun 'dgate-cli route create --help' for usage.\n");
  });

  it('missing required fields are named', async () => {
    await fails(['rt', 'mk', 'name=r'], 2, "dgate-cli: missing required field(s) for route: paths, methods\nRun 'dgate-cli route create --help' for usage.\n");
    await fails(['svc', 'get'], 2, "dgate-cli: missing required field(s) for service: name\nRun 'dgate-cli service get --help' for usage.\n");
    await fails(['doc', 'ls'], 2, "dgate-cli: missing required field(s) for document: collection\nRun 'dgate-cli document list --help' for usage.\n");
    await fails(['doc', 'rm', 'collection=c'], 2, /missing required field\(s\) for document: id\n/);
  });

  it('values that do not fit the field type', async () => {
    await fails(['dom', 'mk', 'name=d', 'patterns=x', 'priority=high'], 2, /^dgate-cli: priority: expected an integer, got "high"\n/);
    await fails(['rt', 'mk', 'name=r', 'paths=/', 'methods=GET', 'stripPath=yes'], 2, /^dgate-cli: stripPath: expected true or false, got "yes"\n/);
    await fails(['rt', 'mk', 'name=r', 'paths:=["/"', 'methods=GET'], 2, /^dgate-cli: paths: invalid JSON: /);
    await fails(['mod', 'mk', 'name=m', 'payload@=does-not-exist.ts'], 2, /^dgate-cli: payload: cannot read does-not-exist\.ts: no such file\n/);
  });

  it('unknown commands, verbs and flags; stray words', async () => {
    await fails(['routes', 'ls'], 2, "dgate-cli: unknown command \"routes\"\nRun 'dgate-cli --help' for usage.\n");
    await fails(['route', 'show'], 2, "dgate-cli: unknown verb \"show\" for route (create, delete, list or get)\nRun 'dgate-cli route --help' for usage.\n");
    await fails(['--colour', 'ns', 'ls'], 2, /^dgate-cli: unknown flag: --colour\n/);
    await fails(['ns', 'ls', '-V'], 2, /^dgate-cli: unknown flag for namespace list: -V \(global flags go before the resource: dgate-cli -V namespace list …\)\n/);
    await fails(['ns', 'mk', 'name=a', 'extra'], 2, /^dgate-cli: unexpected argument "extra"/);
    await fails(['ns', 'get', 'a', 'b'], 2, /^dgate-cli: more than one name given: "a" and "b"\n/);
    await fails(['doc', 'rm', 'id=a', '--all', 'collection=c'], 2, /^dgate-cli: give either id=… or --all, not both\n/);
  });

  it('--auth with a user but no password when stdin is not a terminal', async () => {
    await fails(['-a', 'ops', 'ns', 'ls'], 2, /^dgate-cli: --auth: the password for ops is missing \(give ops:PASSWORD; it is asked for only on a terminal\)\n/);
  });

  it('nothing is sent when the arguments are wrong', async () => {
    const before = (await gw.admin('GET', '/changelog')).body.rev;
    await cli(['ns', 'mk', 'name=x', 'bogus=1'], { admin: gw.adminUrl });
    assert.equal((await gw.admin('GET', '/changelog')).body.rev, before);
  });
});

describe('errors from the server exit 1 with its status and message', () => {
  it('a reference to something missing (422)', async () => {
    await fails(['rt', 'mk', 'name=r', 'paths=/', 'methods=GET', 'service=nope'], 1, 'dgate-cli: 422 error from server: service not found: nope\n');
  });

  it('a validation error (400) names the field', async () => {
    await fails(['rt', 'mk', 'name=r', 'paths=abc', 'methods=GET'], 1, 'dgate-cli: 400 error from server: paths[0]: must begin with "/"\n');
  });

  it('something missing (404) and a delete that would leave a dangling reference (409)', async () => {
    await fails(['svc', 'get', 'ghost'], 1, 'dgate-cli: 404 error from server: service not found: ghost\n');
    await fails(['ns', 'rm', 'ghost'], 1, 'dgate-cli: 404 error from server: namespace not found: ghost\n');
    await gw.put('service', { name: 'used', urls: ['http://a.test'] });
    await gw.put('route', { name: 'user', paths: ['/'], methods: ['GET'], service: 'used' });
    await fails(['svc', 'rm', 'used'], 1, /^dgate-cli: 409 error from server: cannot delete service: used: still referenced by route user\n$/);
  });

  it('a document against its collection schema (422)', async () => {
    await gw.put('collection', { name: 'typed', schema: { type: 'object', properties: { n: { type: 'integer' } } } });
    await fails(['doc', 'mk', 'id=a', 'collection=typed', 'data:={"n":"x"}'], 1, /^dgate-cli: 422 error from server: document does not match the schema of collection typed: /);
  });
});

describe('an unreachable admin API exits 1', () => {
  it('names the URL and the reason', async () => {
    const port = REFUSING_PORT;
    const r = await cli(['ns', 'ls'], { admin: `127.0.0.1:${port}` });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `dgate-cli: cannot reach the admin API at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGlobalOptions } from './global-options.js';
import { UsageError } from './usage-error.js';

test('defaults, and the rest of the command line starts at the first word', () => {
  const { options, rest } = parseGlobalOptions(['route', 'ls', '-V'], {});
  assert.deepEqual(options, {
    adminUrl: 'http://localhost:9080',
    auth: undefined,
    follow: false,
    verbose: false,
    waitAll: false,
    waitTimeoutMs: 30_000,
    help: false,
    version: false,
  });
  assert.deepEqual(rest, ['route', 'ls', '-V']);
});

test('short flags combine; a value flag takes the rest of the cluster or the next word', () => {
  assert.deepEqual(parseGlobalOptions(['-Vf', 'ns', 'ls'], {}).options.follow, true);
  const a = parseGlobalOptions(['-Vfa', 'u:p', 'ns'], {});
  assert.deepEqual([a.options.verbose, a.options.follow, a.options.auth, a.rest], [true, true, { username: 'u', password: 'p' }, ['ns']]);
  assert.deepEqual(parseGlobalOptions(['-au:p'], {}).options.auth, { username: 'u', password: 'p' });
  assert.deepEqual(parseGlobalOptions(['--auth=u:p:q'], {}).options.auth, { username: 'u', password: 'p:q' });
  assert.deepEqual(parseGlobalOptions(['-a', 'u'], {}).options.auth, { username: 'u', password: null }, 'the password is asked for later');
});

test('the admin URL: flag over environment, http:// assumed, trailing slash dropped', () => {
  assert.equal(parseGlobalOptions([], { DGATE_ADMIN_API: 'gw:9080' }).options.adminUrl, 'http://gw:9080');
  assert.equal(parseGlobalOptions(['--admin', 'https://gw/admin/'], { DGATE_ADMIN_API: 'x' }).options.adminUrl, 'https://gw/admin');
  assert.equal(parseGlobalOptions(['--admin=localhost:1'], {}).options.adminUrl, 'http://localhost:1');
});

test('environment: auth, key (with header) and follow', () => {
  assert.deepEqual(parseGlobalOptions([], { DGATE_ADMIN_AUTH: 'u:p' }).options.auth, { username: 'u', password: 'p' });
  assert.deepEqual(parseGlobalOptions([], { DGATE_ADMIN_KEY: 'k', DGATE_ADMIN_KEY_HEADER: 'X-Key' }).options.auth, { key: 'k', header: 'X-Key' });
  assert.deepEqual(parseGlobalOptions(['--key', 'k2'], { DGATE_ADMIN_AUTH: 'u:p' }).options.auth, { key: 'k2' }, 'a flag beats the other method’s variable');
  assert.equal(parseGlobalOptions([], { DGATE_FOLLOW_REDIRECTS: '1' }).options.follow, true);
  assert.equal(parseGlobalOptions([], { DGATE_FOLLOW_REDIRECTS: 'false' }).options.follow, false);
});

test('mistakes are usage errors', () => {
  const refused = (argv: string[], message: string, env = {}) =>
    assert.throws(() => parseGlobalOptions(argv, env), (e: unknown) => e instanceof UsageError && e.message === message ? true : assert.fail(String(e)));
  refused(['-x'], 'unknown flag: -x');
  refused(['-Vx'], 'unknown flag: -x (in -Vx)');
  refused(['--admin'], 'flag --admin needs a value');
  refused(['--verbose=1'], 'unknown flag: --verbose=1');
  refused(['-a', ':p'], '--auth: the user name is missing (give user:password)');
  refused(['-a', 'u:p', '--key', 'k'], 'give --auth (basic) or --key, not both');
  refused([], 'DGATE_FOLLOW_REDIRECTS: expected true or false, got "yes"', { DGATE_FOLLOW_REDIRECTS: 'yes' });
  refused(['--admin', 'http://'], '--admin: not a URL: http://');
});

test('--wait-all and --wait-timeout', () => {
  const { options, rest } = parseGlobalOptions(['--wait-all', '--wait-timeout', '1m30s', 'ns', 'mk', 'name=a'], {});
  assert.deepEqual([options.waitAll, options.waitTimeoutMs, rest], [true, 90_000, ['ns', 'mk', 'name=a']]);
  assert.equal(parseGlobalOptions(['--wait-timeout=250ms'], {}).options.waitTimeoutMs, 250);
  for (const bad of ['soon', '0s', '-1s', '30']) {
    assert.throws(
      () => parseGlobalOptions([`--wait-timeout=${bad}`], {}),
      (err: unknown) => err instanceof UsageError && err.message === `--wait-timeout: expected a duration such as 30s, 2m or 500ms, got "${bad}"`,
    );
  }
});

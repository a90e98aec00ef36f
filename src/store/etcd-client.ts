/**
 * Builds the etcd client from `storage.*`. Deadlines matter more than retries here: a gateway
 * whose etcd is gone must answer admin writes with a 503 within about two seconds, not stall for
 * etcd3's defaults (3 retries, then a per-host circuit breaker that refuses calls for 5 s even
 * after etcd is back).
 *
 * - every unary call gets a deadline of `request_timeout` (streams, i.e. watches, get none);
 * - a call that fails to connect (UNAVAILABLE: member down) is retried at once on the next
 *   endpoint, at most once per endpoint; a call that timed out is not retried (its deadline is the
 *   budget);
 * - no circuit breaker: the first call after etcd returns goes through;
 * - watches reconnect with a backoff capped at 1 s, so followers catch up soon after etcd returns;
 * - until a first call succeeded (the connection is being opened), calls get `dial_timeout`
 *   instead when it is longer.
 */
import { readFileSync } from 'node:fs';
import { ExponentialBackoff, handleWhen, noop, retry } from 'cockatiel';
import { Etcd3, GRPCDeadlineExceededError, isRecoverableError, type IOptions } from 'etcd3';
import { prepareTlsClients } from '../platform/tls.js';

export interface EtcdClientOptions {
  endpoints: readonly string[];
  username?: string | null;
  password?: string | null;
  /** PEM files; ca alone = server verification, cert+key = client certificate too */
  tls?: { caFile?: string | null; certFile?: string | null; keyFile?: string | null } | null;
  /** bound of the first contact, ms */
  dialTimeoutMs?: number;
  /** deadline of each call, ms */
  requestTimeoutMs?: number;
}

export const DEFAULT_DIAL_TIMEOUT_MS = 2000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 1500;

export function createEtcdClient(opts: EtcdClientOptions): Etcd3 {
  const requestTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const dialTimeout = opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
  // until a first call succeeded, calls also open the connection: they get dial_timeout
  let contacted = false;
  const deadline = () => Date.now() + (contacted ? requestTimeout : Math.max(dialTimeout, requestTimeout));
  const hosts = opts.endpoints.map((e) => (/^[a-z]+:\/\//i.test(e) ? e : `http://${e}`));
  const globalPolicy = retry(
    handleWhen((err) => isRecoverableError(err) && !(err instanceof GRPCDeadlineExceededError)),
    { maxAttempts: Math.max(0, hosts.length - 1) },
  );
  globalPolicy.onSuccess(() => {
    contacted = true;
  });
  const options: IOptions = {
    hosts,
    dialTimeout,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: deadline() }),
    grpcOptions: {
      // snapshots and large batches are read back in one response
      'grpc.max_receive_message_length': -1,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    },
    faultHandling: {
      host: () => noop,
      global: globalPolicy,
      // etcd3 calls .next() on it, i.e. it takes a backoff factory despite its declared type
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }) as unknown as NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>,
    },
  };
  if (opts.username) options.auth = { username: opts.username, password: opts.password ?? '', callOptions: () => ({ deadline: deadline() }) };
  const tls = opts.tls;
  // without files, an https:// endpoint still gets TLS with the system authorities (etcd3 does it)
  if (tls && (tls.caFile || tls.certFile || tls.keyFile)) {
    options.credentials = {
      // null: the system's certificate authorities
      rootCertificate: tls?.caFile ? readFileSync(tls.caFile) : (null as unknown as Buffer),
      ...(tls?.keyFile ? { privateKey: readFileSync(tls.keyFile) } : {}),
      ...(tls?.certFile ? { certChain: readFileSync(tls.certFile) } : {}),
    };
  }
  prepareTlsClients();
  return new Etcd3(options);
}

/**
 * A real @grpc/grpc-js server and client for test/fixtures/grpc/echo.proto (service
 * dgate.test.Echo). The server's behaviour per call is chosen by the request text:
 *   "fail-after:N"  server stream: N messages, then status INTERNAL with message "broke at N"
 *   "status:CODE"   unary: answers with that status code and message "asked for CODE"
 *   "hang"          unary: never answers (the client's deadline expires); `hangsEnded` counts
 *                   those whose stream was closed (the proxy passed the cancellation on)
 *   "crash-after:N" server stream: N messages, then the server's connection is destroyed
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('../../../test/fixtures/grpc/echo.proto', import.meta.url));

export interface Msg {
  text: string;
  count: number;
}

type Ctor = new (address: string, creds: grpc.ChannelCredentials, options?: object) => grpc.Client & Record<string, any>;

export function echoService(): { Echo: Ctor & { service: grpc.ServiceDefinition } } {
  const def = loader.loadSync(PROTO, { keepCase: true, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  return { Echo: pkg.dgate.test.Echo };
}

export interface GrpcEchoServer {
  port: number;
  /** "hang" calls whose stream was closed by the client side (deadline passed on by the proxy) */
  hangsEnded: () => number;
  /** the metadata of the last call, as the server received it */
  lastMetadata: () => Record<string, unknown>;
  close(): Promise<void>;
}

export async function startGrpcEchoServer(): Promise<GrpcEchoServer> {
  const { Echo } = echoService();
  const server = new grpc.Server();
  let hangsEnded = 0;
  let metadata: Record<string, unknown> = {};
  const seen = (call: { metadata: grpc.Metadata }) => {
    metadata = call.metadata.getMap();
  };
  server.addService(Echo.service, {
    Unary(call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      seen(call);
      const text = call.request.text;
      if (text === 'hang') {
        call.on('cancelled', () => hangsEnded++);
        return;
      }
      const m = /^status:(\d+)$/.exec(text);
      if (m !== null) return cb({ code: Number(m[1]), details: `asked for ${m[1]}` });
      cb(null, { text: `echo: ${text}`, count: call.request.count + 1 });
    },
    ServerStream(call: grpc.ServerWritableStream<Msg, Msg>) {
      seen(call);
      const text = call.request.text;
      const fail = /^fail-after:(\d+)$/.exec(text);
      const crash = /^crash-after:(\d+)$/.exec(text);
      const n = fail !== null ? Number(fail[1]) : crash !== null ? Number(crash[1]) : call.request.count;
      for (let i = 0; i < n; i++) call.write({ text: `${text} #${i}`, count: i });
      if (fail !== null) {
        call.emit('error', { code: grpc.status.INTERNAL, details: `broke at ${n}` });
        return;
      }
      if (crash !== null) {
        // the answer so far is flushed, then the connection goes away without a status
        setTimeout(() => server.forceShutdown(), 50);
        return;
      }
      call.end();
    },
    ClientStream(call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      seen(call);
      const texts: string[] = [];
      call.on('data', (m: Msg) => texts.push(m.text));
      call.on('end', () => cb(null, { text: texts.join(','), count: texts.length }));
    },
    Bidi(call: grpc.ServerDuplexStream<Msg, Msg>) {
      seen(call);
      call.on('data', (m: Msg) => call.write({ text: `re: ${m.text}`, count: m.count }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    hangsEnded: () => hangsEnded,
    lastMetadata: () => metadata,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** A client of dgate.test.Echo at `address` (host:port), cleartext (h2c) unless `creds` say otherwise. */
export function grpcClient(address: string, creds: grpc.ChannelCredentials = grpc.credentials.createInsecure(), options: object = {}): grpc.Client & Record<string, any> {
  const { Echo } = echoService();
  return new Echo(address, creds, options);
}

export function unary(client: grpc.Client & Record<string, any>, msg: Msg, deadlineMs = 10_000): Promise<Msg> {
  return new Promise((resolve, reject) =>
    client.Unary(msg, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: Msg) => (err ? reject(err) : resolve(res))),
  );
}

/** All messages of a server stream, then its status (an error status rejects with the messages seen). */
export function serverStream(client: grpc.Client & Record<string, any>, msg: Msg, deadlineMs = 10_000): Promise<Msg[]> {
  return new Promise((resolve, reject) => {
    const got: Msg[] = [];
    const call = client.ServerStream(msg, { deadline: Date.now() + deadlineMs });
    call.on('data', (m: Msg) => got.push(m));
    call.on('error', (err: grpc.ServiceError) => reject(Object.assign(err, { received: got })));
    call.on('end', () => resolve(got));
  });
}

export { grpc };

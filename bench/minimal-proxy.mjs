#!/usr/bin/env node
// Minimal reverse proxy used as the reference point in bench/proxy-vs-nginx.mjs: node:http in
// front, one undici Pool (keep-alive) behind, no routing, no logging, no features. It is what a
// careful hand-written Node proxy costs per request; the gateway cannot be expected to beat it.
//
//   node bench/minimal-proxy.mjs --port 8081 --upstream http://127.0.0.1:8082 [--host 127.0.0.1]
//
// Prints one line `listening <host>:<port>` on stdout once it accepts connections.
// Manual benchmark tool only: it is not part of the gateway and not run in CI.
import http from 'node:http';
import { Pool } from 'undici';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i !== -1 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) {
    process.stderr.write(`minimal-proxy: --${name} is required\n`);
    process.exit(2);
  }
  return fallback;
}

const host = arg('host', '127.0.0.1');
const port = Number(arg('port'));
const upstream = new URL(arg('upstream'));
const origin = upstream.origin;

// Same keep-alive stance as nginx `upstream { keepalive 64; }`: connections are reused, and
// enough of them may be open that the 50 wrk connections never wait for one.
const pool = new Pool(origin, {
  connections: 128,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  keepAliveMaxTimeout: 600_000,
});

// Hop-by-hop headers (RFC 9110 §7.6.1), dropped in both directions. `host` is also dropped from
// the request so undici sends the upstream's own Host, as nginx proxy_pass does by default.
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

function requestHeaders(raw) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

function responseHeaders(headers) {
  // undici hands over lowercased names; values are strings or arrays (set-cookie).
  const out = {};
  for (const name in headers) {
    if (!HOP.has(name)) out[name] = headers[name];
  }
  return out;
}

function hasBody(req) {
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
}

const server = http.createServer((req, res) => {
  let started = false;
  pool.dispatch(
    {
      origin,
      path: req.url,
      method: req.method,
      headers: requestHeaders(req.rawHeaders),
      body: hasBody(req) ? req : null,
    },
    {
      onRequestStart(controller) {
        res.once('close', () => {
          if (!res.writableFinished) controller.abort(new Error('client went away'));
        });
      },
      onResponseStart(controller, statusCode, headers, statusMessage) {
        if (statusCode < 200) return; // 1xx informational: not forwarded
        started = true;
        res.writeHead(statusCode, statusMessage, responseHeaders(headers));
      },
      onResponseData(controller, chunk) {
        if (!res.write(chunk)) {
          controller.pause();
          res.once('drain', () => controller.resume());
        }
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError(controller, err) {
        if (!started && !res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end('bad gateway\n');
        } else {
          res.destroy(err);
        }
      },
    },
  );
});

server.keepAliveTimeout = 75_000; // nginx's default keepalive_timeout
server.listen(port, host, () => {
  const a = server.address();
  process.stdout.write(`listening ${a.address}:${a.port}\n`);
});

function stop() {
  server.close();
  server.closeAllConnections();
  pool.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

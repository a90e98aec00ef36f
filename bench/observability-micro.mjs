#!/usr/bin/env node
// What metrics and stats add in JavaScript per proxied request, without the network: the
// request-path publishing (request start and end, one upstream attempt, the close listener)
// with nobody subscribed and with the node's observers subscribed, N times in a loop, CPU time
// per iteration. Runs on the runtime that runs it: `node bench/observability-micro.mjs` or
// `node_modules/.bin/bun bench/observability-micro.mjs`. Needs dist/ (npx tsc -p .).
import { EventEmitter } from 'node:events';
import { channels } from '../dist/src/observability/channels.js';
import { ProcessObserver } from '../dist/src/observability/process-observer.js';
import { RequestMeter } from '../dist/src/proxy/request-meter.js';

const N = Number(process.argv[2] ?? 1_000_000);
const START = Object.freeze({});

function run() {
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    if (channels.requestStart.hasSubscribers) channels.requestStart.publish(START);
    const res = new EventEmitter();
    if (channels.requestEnd.hasSubscribers) {
      const m = new RequestMeter();
      m.namespace = 'default';
      m.route = 'pass';
      m.service = 'up';
      res.once('close', () => {
        channels.requestEnd.publish({ namespace: m.namespace, route: m.route, service: m.service, upstream: 'http://127.0.0.1:1', method: 'GET', status: 200, bytesIn: 0, bytesOut: 2, moduleMs: 0, upstreamMs: m.upstreamMs, totalMs: 1.5 + (i % 7), requestId: null });
      });
    }
    if (channels.upstream.hasSubscribers) {
      const t = performance.now();
      channels.upstream.publish({ namespace: 'default', service: 'up', upstream: 'http://127.0.0.1:1', durationMs: performance.now() - t + 1, error: null, retry: false });
    }
    res.emit('close');
  }
  const u = process.cpuUsage(t0);
  return (u.user + u.system) / N;
}

run();
const off = run();
const observer = new ProcessObserver({ proxy: true });
observer.start();
run();
const on = run();
observer.stop();
const runtime = typeof globalThis.Bun === 'object' ? `bun ${globalThis.Bun.version}` : `node ${process.version}`;
console.log(`${runtime}: ${N} iterations; CPU µs per request: nobody subscribed ${off.toFixed(3)}, metrics and stats subscribed ${on.toFixed(3)}; added ${(on - off).toFixed(3)} µs`);

// Minimal reverse proxy on Bun, the reference point for the gateway on Bun in
// bench/proxy-vs-nginx.mjs: `Bun.serve` in front, `fetch` behind (Bun's keep-alive pool), the
// upstream's Response passed back with hop-by-hop headers removed. No routing, no features.
// With --modify, the floor for a module route whose requestModifier and responseModifier set one
// header each (bench/modules.mjs, scenario minimal-bun-modified): X-Req: 1 is set on the upstream
// request and X-Res: 1 on the answer, nothing else differs.
//
//   bun bench/minimal-bun-proxy.mjs --port 8081 --upstream http://127.0.0.1:8082 [--host 127.0.0.1] [--modify]
//
// Prints one line `listening <host>:<port>` on stdout once it accepts connections.
// Manual benchmark tool only: it is not part of the gateway and not run in CI.

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i !== -1 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) {
    process.stderr.write(`minimal-bun-proxy: --${name} is required\n`);
    process.exit(2);
  }
  return fallback;
}

const host = arg('host', '127.0.0.1');
const port = Number(arg('port'));
const origin = new URL(arg('upstream')).origin;
const modify = process.argv.includes('--modify');
const HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host'];

const server = globalThis.Bun.serve({
  hostname: host,
  port,
  async fetch(req) {
    const url = new URL(req.url);
    const headers = new Headers(req.headers);
    for (const h of HOP) headers.delete(h);
    if (modify) headers.set('X-Req', '1');
    const res = await fetch(origin + url.pathname + url.search, {
      method: req.method,
      headers,
      body: req.body,
      redirect: 'manual',
      decompress: false,
    });
    const out = new Headers(res.headers);
    for (const h of HOP) out.delete(h);
    if (modify) out.set('X-Res', '1');
    return new Response(res.body, { status: res.status, headers: out });
  },
});
process.stdout.write(`listening ${host}:${server.port}\n`);

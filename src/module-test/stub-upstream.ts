import http from 'node:http';
import { listen } from '../net/listen.js';

export interface StubAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface ReceivedRequest {
  method: string;
  /** path and query as received */
  url: string;
  /** name → values, as sent */
  headers: Record<string, string[]>;
  body: string;
}

/** A one-answer upstream on a loopback port: records what it received and answers as told. */
export async function startStubUpstream(answer: StubAnswer): Promise<{ url: string; received: ReceivedRequest[]; close(): Promise<void> }> {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string[]> = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) (headers[req.rawHeaders[i]] ??= []).push(req.rawHeaders[i + 1]);
      received.push({ method: req.method!, url: req.url!, headers, body: Buffer.concat(chunks).toString('utf8') });
      const body = answer.body ?? '';
      res.writeHead(answer.status ?? 200, { 'Content-Length': Buffer.byteLength(body), ...(answer.headers ?? {}) });
      res.end(body);
    });
  });
  const port = await listen(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

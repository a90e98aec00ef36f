/**
 * Reads a server-sent event stream with a real HTTP client (test/support/http.ts): the events
 * arrive in `events` as they come; `next` waits for one that passes a test.
 */
import { request } from './http.js';
import { until } from './until.js';

export interface ServerSentEvent {
  id: string | null;
  event: string | null;
  data: string;
}

export interface EventStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** every event so far (comments and field-only blocks left out) */
  events: ServerSentEvent[];
  /** the data of every event so far, parsed as JSON */
  readonly json: any[];
  /** waits until an event's JSON data passes `test`; resolves with it */
  next(test: (data: any) => boolean, what: string, timeoutMs?: number): Promise<any>;
  /** true once the server ended the stream */
  readonly ended: boolean;
  close(): void;
}

/** Opens the stream; resolves once the answer's headers and first bytes have arrived. */
export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
  const abort = new AbortController();
  const res = await request(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: ServerSentEvent[] = [];
  let ended = false;
  let first!: () => void;
  const firstChunk = new Promise<void>((resolve) => (first = resolve));
  void (async () => {
    let pending = '';
    try {
      for await (const chunk of res.body) {
        first();
        pending += chunk.toString('utf8');
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const e: ServerSentEvent = { id: null, event: null, data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
            else if (line.startsWith('id:')) e.id = line.slice(3).trim();
            else if (line.startsWith('event:')) e.event = line.slice(6).trim();
          }
          if (data.length === 0) continue;
          e.data = data.join('\n');
          events.push(e);
        }
      }
    } catch {
      /* closed by us */
    } finally {
      ended = true;
      first();
    }
  })();
  if (res.statusCode === 200) await firstChunk;
  const stream: EventStream = {
    status: res.statusCode,
    headers: res.headers,
    events,
    get json() {
      return events.map((e) => JSON.parse(e.data));
    },
    async next(test, what, timeoutMs = 10_000) {
      let found: any;
      await until(() => (found = stream.json.find(test)) !== undefined, what, timeoutMs);
      return found;
    },
    get ended() {
      return ended;
    },
    close: () => abort.abort(),
  };
  return stream;
}

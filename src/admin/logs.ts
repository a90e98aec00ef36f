import type { ServerResponse } from 'node:http';
import { parseDuration } from '../core/duration.js';
import { invalidField } from '../core/errors.js';
import { matches, type ModuleLogFilter, type ModuleLogSource } from '../observability/module-log-buffer.js';
import { MODULE_LOG_LEVELS, type ModuleLogLevelName, type ModuleLogLine } from '../observability/module-log-record.js';
import type { AdminContext } from './context.js';
import { envelope, type Reply } from './reply.js';
import type { AdminRequest } from './request.js';
import type { RouteDef } from './router.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
/** A follower whose connection holds this many unsent bytes misses lines (counted, then said) until it catches up. */
const MAX_UNSENT_BYTES = 1024 * 1024;
/** A comment line this often keeps idle streams (and the proxies on their way) open. */
const HEARTBEAT_MS = 5_000;

/**
 * `GET /api/v1/logs`: module log lines of this node (console output and uncaught errors of
 * module code, from every proxy process), oldest first:
 * `{"count","data":[{seq,time,namespace,module,route,requestId,level,message,pid[,dropped]}],"dropped":[{namespace,module,dropped}],"status_code"}`.
 * Filters: namespace, module, route, level (that level and above), since (RFC 3339 time or a
 * duration back from now), after (seq), limit (the newest N, default 100, at most 10000).
 * With `follow=true` or `Accept: text/event-stream`: server-sent events, the matching backlog
 * (limit) first, then every new line as it arrives (`id:` is the line's seq; `Last-Event-ID`
 * resumes after it).
 */
export function logRoutes(ctx: AdminContext, source: ModuleLogSource): RouteDef[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/logs',
      handler(req) {
        const filter = filterOf(req, ctx);
        const limit = req.integer('limit', DEFAULT_LIMIT, MAX_LIMIT);
        if (wantsStream(req)) return eventStream(source, filter, limit);
        const { lines, dropped } = source.query(filter, limit);
        return envelope(200, lines.map(lineJson), { dropped });
      },
    },
  ];
}

function filterOf(req: AdminRequest, ctx: AdminContext): ModuleLogFilter {
  const level = req.param('level');
  if (level !== undefined && !(MODULE_LOG_LEVELS as readonly string[]).includes(level)) {
    throw invalidField('level', `must be one of ${MODULE_LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  const lastEventId = req.raw.headers['last-event-id'];
  const after = req.integer('after', undefined) ?? (typeof lastEventId === 'string' && /^\d+$/.test(lastEventId) ? Number(lastEventId) : undefined);
  return {
    namespace: req.param('namespace'),
    module: req.param('module'),
    route: req.param('route'),
    level: level as ModuleLogLevelName | undefined,
    since: sinceOf(req.param('since'), ctx.now().getTime()),
    after,
  };
}

/** An RFC 3339 time, or a duration back from now ("10m", "1h30m"). */
function sinceOf(raw: string | undefined, now: number): number | undefined {
  if (raw === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(raw)) {
    const t = Date.parse(raw);
    if (!Number.isNaN(t)) return t;
  } else {
    const ns = parseDuration(raw);
    if (ns !== null && ns >= 0) return now - Math.floor(ns / 1e6);
  }
  throw invalidField('since', `expected an RFC 3339 time (2024-05-01T12:00:00Z) or a duration back from now (30s, 10m, 1h), got ${JSON.stringify(raw)}`);
}

function wantsStream(req: AdminRequest): boolean {
  const follow = req.param('follow');
  if (follow !== undefined) {
    if (follow === 'true' || follow === '1') return true;
    if (follow === 'false' || follow === '0') return false;
    throw invalidField('follow', `expected true or false, got ${JSON.stringify(follow)}`);
  }
  return (req.raw.headers.accept ?? '').includes('text/event-stream');
}

/** A line as the API answers it: time in ISO 8601, fields in a fixed order. */
function lineJson(l: ModuleLogLine): Record<string, unknown> {
  const out: Record<string, unknown> = {
    seq: l.seq,
    time: new Date(l.time).toISOString(),
    namespace: l.namespace,
    module: l.module,
    route: l.route,
    requestId: l.requestId,
    level: l.level,
    message: l.message,
    pid: l.pid,
  };
  if (l.dropped !== undefined) out.dropped = l.dropped;
  return out;
}

function eventStream(source: ModuleLogSource, filter: ModuleLogFilter, limit: number): Reply {
  return {
    status: 200,
    headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' },
    stream: (res) => follow(res, source, filter, limit),
  };
}

/** Lines missed by one slow follower, per module, until they can be said. */
interface Missed {
  namespace: string;
  module: string | null;
  count: number;
  lastSeq: number;
}

function follow(res: ServerResponse, source: ModuleLogSource, filter: ModuleLogFilter, limit: number): void {
  const missed = new Map<string, Missed>();
  const event = (line: ModuleLogLine) => `id: ${line.seq}\ndata: ${JSON.stringify(lineJson(line))}\n\n`;
  const sayMissed = () => {
    for (const m of missed.values()) {
      const message = `${m.count} line${m.count === 1 ? '' : 's'} dropped: this stream was read too slowly`;
      res.write(event({ seq: m.lastSeq, time: Date.now(), namespace: m.namespace, module: m.module, route: null, requestId: null, level: 'warn', message, pid: process.pid, dropped: m.count }));
    }
    missed.clear();
  };
  const send = (line: ModuleLogLine) => {
    if (!matches(line, filter) || res.destroyed) return;
    if (res.writableLength > MAX_UNSENT_BYTES) {
      const key = line.module === null ? line.namespace : `${line.namespace}/${line.module}`;
      const m = missed.get(key) ?? missed.set(key, { namespace: line.namespace, module: line.module, count: 0, lastSeq: 0 }).get(key)!;
      m.count += line.dropped ?? 1;
      m.lastSeq = line.seq;
      return;
    }
    if (missed.size > 0) sayMissed();
    res.write(event(line));
  };
  // Sent at once: the client knows it follows from here on (the backlog and the subscription are taken in the same tick).
  res.write('retry: 2000\n\n');
  for (const line of source.query(filter, limit).lines) res.write(event(line));
  const stop = source.follow(send);
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS).unref();
  res.on('drain', () => missed.size > 0 && res.writableLength <= MAX_UNSENT_BYTES && sayMissed());
  const end = () => {
    stop();
    clearInterval(heartbeat);
  };
  res.on('close', end);
}

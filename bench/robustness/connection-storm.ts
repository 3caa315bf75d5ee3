/**
 * 1,000 connections at once against a listening server: every one opens its own TCP connection
 * (no agent, `Connection: close`) at the same moment and sends one request (maps reads, point
 * and batch queries, process lists, the health probe, in turn). Each has a deadline; an answer
 * is `answered` (any status but 5xx), `shed` (503 EBUSY in the errno shape with `Retry-After`),
 * `failed` (another 5xx, a 503 without Retry-After, a reset or refused connection) or `hung`
 * (no complete answer before the deadline).
 *
 * Run as a child with a raised fd limit (fd-limit.ts):
 *   node dist/bench/robustness/connection-storm.js PORT CONNECTIONS DEADLINE_MS → JSON on stdout
 */
import { request } from 'node:http';
import { pathToFileURL } from 'node:url';

export interface StormResult {
  connections: number;
  answered: number;
  shed: number;
  failed: number;
  hung: number;
  /** Status → count, and error codes of failed connections. */
  statuses: Record<string, number>;
  /** Slowest complete answer, ms. */
  slowestMs: number;
}

const REQUESTS: Array<{ method: string; path: string; body?: string }> = [
  { method: 'GET', path: '/proc/1/maps' },
  { method: 'GET', path: '/proc/1/procmap_query?addr=0x0&flags=COVERING_OR_NEXT_VMA' },
  { method: 'GET', path: '/processes?limit=10' },
  {
    method: 'POST',
    path: '/proc/1/procmap_query',
    body: JSON.stringify({
      addrs: ['0x0', '0x400000', '0x7ffffffff000'],
      flags: 'COVERING_OR_NEXT_VMA',
    }),
  },
  { method: 'GET', path: '/healthz' },
];

type Outcome = { kind: 'answered' | 'shed' | 'failed' | 'hung'; label: string; ms: number };

function one(port: number, i: number, deadlineMs: number): Promise<Outcome> {
  const spec = REQUESTS[i % REQUESTS.length];
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: Omit<Outcome, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...o, ms: performance.now() - t0 });
    };
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: spec.method,
        path: spec.path,
        agent: false,
        headers: {
          connection: 'close',
          ...(spec.body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e: NodeJS.ErrnoException) =>
          settle({ kind: 'failed', label: e.code ?? 'error' }),
        );
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const label = String(status);
          if (status < 500) return settle({ kind: 'answered', label });
          let errno: unknown;
          try {
            errno = JSON.parse(Buffer.concat(chunks).toString()).error;
          } catch {
            errno = undefined;
          }
          const shed =
            status === 503 && errno === 'EBUSY' && res.headers['retry-after'] !== undefined;
          settle({ kind: shed ? 'shed' : 'failed', label });
        });
      },
    );
    const timer = setTimeout(() => {
      settle({ kind: 'hung', label: 'hung' });
      req.destroy();
    }, deadlineMs);
    req.on('error', (e: NodeJS.ErrnoException) =>
      settle({ kind: 'failed', label: e.code ?? 'error' }),
    );
    req.end(spec.body);
  });
}

export async function connectionStorm(
  port: number,
  connections: number,
  deadlineMs: number,
): Promise<StormResult> {
  const outcomes = await Promise.all(
    Array.from({ length: connections }, (_, i) => one(port, i, deadlineMs)),
  );
  const r: StormResult = {
    connections,
    answered: 0,
    shed: 0,
    failed: 0,
    hung: 0,
    statuses: {},
    slowestMs: 0,
  };
  for (const o of outcomes) {
    r[o.kind]++;
    r.statuses[o.label] = (r.statuses[o.label] ?? 0) + 1;
    if (o.kind !== 'hung' && o.kind !== 'failed') r.slowestMs = Math.max(r.slowestMs, o.ms);
  }
  return r;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [port, connections, deadlineMs] = process.argv.slice(2).map(Number);
  connectionStorm(port, connections, deadlineMs).then((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  });
}

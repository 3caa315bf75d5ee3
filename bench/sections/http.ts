/**
 * HTTP benchmark (issue 4): autocannon, in a separate process, against the real service
 * (dist/src/server.js, default worker CPUs) for GET /proc/:pid/maps of a 100-VMA process, a point
 * PROCMAP_QUERY, a batch query of 1,000 addresses and a mutation — each beside a fastify
 * hello-world serving a body of the same size in the same run. Goals: maps ≥ 0.7× and point
 * query ≥ 0.8× of hello-world requests/s; batch query ≥ 1M addresses/s.
 */
import { measureRequestStages } from '../http/request-stages.js';
import {
  type BenchContext,
  type BenchSection,
  type Figure,
  median,
  ratioFigure,
} from '../lib/figure.js';
import { runKernelBaseline } from '../lib/kernel-baseline.js';
import {
  autocannon,
  type CannonResult,
  freePort,
  startNode,
  startServer,
  stop,
} from '../lib/processes.js';

const CONNECTIONS = 50;

async function json(url: string, init?: RequestInit): Promise<unknown> {
  const r = await fetch(url, init);
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** Median requests/s of `reps` autocannon runs; fails on any error or non-2xx answer. */
async function rps(
  ctx: BenchContext,
  label: string,
  url: string,
  seconds: number,
  opts: { method?: string; body?: string } = {},
): Promise<number> {
  const runs: CannonResult[] = [];
  for (let r = 0; r < ctx.reps; r++) {
    ctx.progress(`${label}: run ${r + 1}/${ctx.reps}`);
    const res = await autocannon(url, seconds, CONNECTIONS, opts);
    if (res.errors > 0 || res.non2xx > 0) {
      throw new Error(`${label}: ${res.errors} errors, ${res.non2xx} non-2xx answers`);
    }
    runs.push(res);
  }
  return median(runs.map((x) => x.rps));
}

/** Starts a hello-world that serves `bytes` bytes of `type`; returns its URL and a stopper. */
async function hello(bytes: number, type: string) {
  const { child, match } = await startNode(['dist/bench/http/hello-server.js'], /listening (\d+)/, {
    BODY_BYTES: String(bytes),
    BODY_TYPE: type,
  });
  return { url: `http://127.0.0.1:${match[1]}/body`, stop: () => stop(child) };
}

export const httpSection: BenchSection = {
  name: 'http',
  async run(ctx: BenchContext): Promise<Figure[]> {
    const seconds = ctx.quick ? 3 : 8;
    const port = await freePort();
    ctx.progress(`starting procfs-sim on port ${port}`);
    const base = `http://127.0.0.1:${port}`;
    // under-pressure off: on a loaded 2-vCPU machine its 503s would end the measurement.
    const server = await startServer(
      [
        'dist/src/server.js',
        '--port',
        String(port),
        '--population',
        '0',
        '--log-level',
        'warn',
        '--max-event-loop-delay-ms',
        '0',
      ],
      `${base}/healthz`,
    );
    const figures: Figure[] = [];
    try {
      // A 100-VMA process: the host's own layout with anonymous/file mappings, as kbench builds it.
      // (At most 99 lines of it, then its [vsyscall] gate line, which an import must end with.)
      const lines = runKernelBaseline(78, 1).mapsText.trimEnd().split('\n');
      const gate = lines.filter((l) => l.endsWith('[vsyscall]'));
      const layout = [...lines.filter((l) => !l.endsWith('[vsyscall]')).slice(0, 99), ...gate].join(
        '\n',
      );
      const proc = (await json(`${base}/processes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ comm: 'bench', maps: `${layout}\n` }),
      })) as { pid: number; vmas: number };
      const mapsUrl = `${base}/proc/${proc.pid}/maps`;
      const mapsBytes = (await (await fetch(mapsUrl)).arrayBuffer()).byteLength;
      const firstAddr = layout.split('-')[0];
      const queryUrl = `${base}/proc/${proc.pid}/procmap_query?addr=0x${firstAddr}`;
      const queryBytes = (await (await fetch(queryUrl)).arrayBuffer()).byteLength;
      const starts = layout.split('\n').map((l) => `0x${l.split('-')[0]}`);
      const batchBody = JSON.stringify({
        queries: Array.from({ length: 1000 }, (_, i) => ({ addr: starts[i % starts.length] })),
      });
      const mutationBody = JSON.stringify({ addr: '0x0' });

      const maps = await rps(ctx, 'GET maps', mapsUrl, seconds);
      const query = await rps(ctx, 'GET procmap_query', queryUrl, seconds);
      const batch = await rps(
        ctx,
        'POST procmap_query (1000)',
        `${base}/proc/${proc.pid}/procmap_query`,
        seconds,
        {
          method: 'POST',
          body: batchBody,
        },
      );
      const mutation = await rps(ctx, 'POST brk', `${base}/proc/${proc.pid}/brk`, seconds, {
        method: 'POST',
        body: mutationBody,
      });

      const h1 = await hello(mapsBytes, 'text/plain');
      const helloMaps = await rps(ctx, `hello-world ${mapsBytes} B`, h1.url, seconds).finally(
        h1.stop,
      );
      const h2 = await hello(queryBytes, 'application/json');
      const helloQuery = await rps(ctx, `hello-world ${queryBytes} B`, h2.url, seconds).finally(
        h2.stop,
      );

      const section = 'HTTP (autocannon, 50 connections, separate process)';
      figures.push(
        ratioFigure({
          id: 'http.maps',
          section,
          what: `GET /proc/:pid/maps (${proc.vmas} VMAs, ${mapsBytes} B)`,
          unit: 'req/s',
          value: maps,
          baseline: { name: `fastify hello-world, ${mapsBytes} B body`, value: helloMaps },
          goal: { op: '>=', ratio: 0.7 },
        }),
        ratioFigure({
          id: 'http.query',
          section,
          what: `GET /proc/:pid/procmap_query (${queryBytes} B)`,
          unit: 'req/s',
          value: query,
          baseline: { name: `fastify hello-world, ${queryBytes} B body`, value: helloQuery },
          goal: { op: '>=', ratio: 0.8 },
        }),
        ratioFigure({
          id: 'http.batch_query',
          section,
          what: 'POST /proc/:pid/procmap_query, 1,000 addresses per request',
          unit: 'addresses/s',
          value: batch * 1000,
          baseline: { name: 'goal: 1M addresses/s', value: 1e6 },
          goal: { op: '>=', ratio: 1 },
        }),
        ratioFigure({
          id: 'http.mutation',
          section,
          what: 'POST /proc/:pid/brk (a mutation under the mmap write lock)',
          unit: 'req/s',
          value: mutation,
          baseline: { name: `fastify hello-world, ${queryBytes} B body`, value: helloQuery },
        }),
      );
      ctx.progress('per-stage CPU of a point query (in process)');
      for (const st of await measureRequestStages(`${layout}\n`, ctx.reps)) {
        figures.push({
          id: `http.stage.${figures.length}`,
          section: 'HTTP: where a point query request spends CPU (µs per request, in process)',
          what: st.note ? `${st.stage} (${st.note})` : st.stage,
          unit: 'µs',
          value: st.us,
        });
      }
    } finally {
      await stop(server);
    }
    return figures;
  },
};

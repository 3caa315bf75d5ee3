/**
 * HTTP benchmark (issues 4 and 10): autocannon (50 connections, a separate process) against the
 * real service with its defaults (`node dist/src/server.js --port N`: default worker CPUs, reads on
 * the event loop, request logging at info — the hot routes log at warn —, under-pressure on, the
 * default population with its busy processes), for GET /proc/:pid/maps of a 100-VMA process, a
 * point PROCMAP_QUERY, batch queries of 1,000 addresses (per-query and compact form) and a
 * mutation — maps and the point query each beside a fastify hello-world serving a body of the
 * same size, their runs alternating with the hello-world's (ours, hello, ours, …) in the same run,
 * each goal's ratio the median of the per-pair ratios.
 * Goals: maps ≥ 0.7× and point query ≥ 0.8× of hello-world requests/s, point-query p99 ≤ 2× the
 * hello-world's, batch ≥ 1M addresses/s. Also the server CPU per request (process and event
 * loop; cpu-figures.ts), the per-stage breakdown of a request (request-stages.ts) beside the
 * figures recorded before the issue 10 HTTP work (bench/http/stages-before.json), what each goal
 * leaves a request (goal-allowance.ts), and diagnostics: both reads again once settled, the point
 * query on a --population 1 server and over each VMA in turn (cannon-paths.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cpuFigures } from '../http/cpu-figures.js';
import { goalAllowance } from '../http/goal-allowance.js';
import { load, loadPaired, type Target } from '../http/load-runs.js';
import { measureRequestStages } from '../http/request-stages.js';
import { sampleCpu } from '../http/server-cpu.js';
import {
  type BenchContext,
  type BenchSection,
  type Figure,
  pairedRatioFigure,
  ratioFigure,
} from '../lib/figure.js';
import { runKernelBaseline } from '../lib/kernel-baseline.js';
import { freePort, repoRoot, startNode, startServer, stop } from '../lib/processes.js';

/** Issue 10's goals: requests/s of maps and the point query against the hello-world's. */
const MAPS_GOAL = 0.7;
const QUERY_GOAL = 0.8;

async function json(url: string, init?: RequestInit): Promise<unknown> {
  const r = await fetch(url, init);
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** Starts a hello-world that serves `bytes` bytes of `type`; returns its URL, pid and a stopper. */
async function hello(bytes: number, type: string) {
  const { child, match } = await startNode(['dist/bench/http/hello-server.js'], /listening (\d+)/, {
    BODY_BYTES: String(bytes),
    BODY_TYPE: type,
  });
  return {
    url: `http://127.0.0.1:${match[1]}/body`,
    pid: child.pid as number,
    stop: () => stop(child),
  };
}

/** How long the idle server's CPU is sampled. */
const IDLE_MS = 2000;

/** Process `pid`'s CPU over IDLE_MS with no request, as a share of one core. */
async function idleCoreShare(pid: number): Promise<number> {
  const before = sampleCpu(pid);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  return (sampleCpu(pid).processUs - before.processUs) / (IDLE_MS * 1000);
}

/** A server with one quiet process (--population 1) and the bench layout imported in it. */
async function quietServer(layout: string) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = ['dist/src/server.js', '--port', String(port), '--population', '1'];
  const server = await startServer(args, `${base}/healthz`);
  try {
    const proc = (await json(`${base}/processes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ comm: 'bench', maps: `${layout}\n` }),
    })) as { pid: number };
    const queryUrl = `${base}/proc/${proc.pid}/procmap_query?addr=0x${layout.split('-')[0]}`;
    return { queryUrl, pid: server.pid as number, stop: () => stop(server) };
  } catch (err) {
    await stop(server);
    throw err;
  }
}

/** The stage figures recorded before the issue 10 HTTP work (stages-before.json). */
interface StagesBefore {
  measured: string;
  stages: Record<string, number>;
}

function stagesBefore(): StagesBefore {
  const file = path.join(repoRoot, 'bench/http/stages-before.json');
  return JSON.parse(readFileSync(file, 'utf8')) as StagesBefore;
}

export const httpSection: BenchSection = {
  name: 'http',
  async run(ctx: BenchContext): Promise<Figure[]> {
    const seconds = ctx.quick ? 3 : 8;
    // The goal rows: twice as many pairs, of runs half as long (ratios are taken per pair).
    const pairSeconds = ctx.quick ? 2 : 4;
    const pairs = 2 * ctx.reps;
    const port = await freePort();
    ctx.progress(`starting procfs-sim on port ${port} with its defaults`);
    const base = `http://127.0.0.1:${port}`;
    const server = await startServer(
      ['dist/src/server.js', '--port', String(port)],
      `${base}/healthz`,
    );
    const serverPid = server.pid as number;
    const figures: Figure[] = [];
    const stoppers: Array<() => Promise<unknown>> = [];
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
      const addrs = Array.from({ length: 1000 }, (_, i) => starts[i % starts.length]);
      const batchBody = JSON.stringify({ queries: addrs.map((addr) => ({ addr })) });
      const compactBody = JSON.stringify({ addrs });
      const batchUrl = `${base}/proc/${proc.pid}/procmap_query`;
      const post = (body: string) => ({ method: 'POST', body });

      const ours = (label: string, url: string, opts?: Target['opts']): Target => ({
        label,
        url,
        pid: serverPid,
        opts,
      });
      const run = (label: string, url: string, opts?: Target['opts']) =>
        load(ctx, ours(label, url, opts), seconds);
      // The hello-worlds serving the same bodies, alive beside ours for the whole section (idle,
      // a hello-world costs nothing); each of ours is loaded in turn with its hello-world.
      const helloMapsServer = await hello(mapsBytes, 'text/plain');
      stoppers.push(helloMapsServer.stop);
      const helloQueryServer = await hello(queryBytes, 'application/json');
      stoppers.push(helloQueryServer.stop);
      const helloTarget = (h: { url: string; pid: number }, bytes: number): Target => ({
        label: `hello-world ${bytes} B`,
        url: h.url,
        pid: h.pid,
      });
      // The default server's own CPU with no request: its busy background threads (default
      // population) and timers, as a share of one core.
      const idleStartShare = await idleCoreShare(serverPid);
      const mapsPairs = await loadPaired(
        ctx,
        ours('GET maps', mapsUrl),
        helloTarget(helloMapsServer, mapsBytes),
        pairSeconds,
        pairs,
      );
      const queryPairs = await loadPaired(
        ctx,
        ours('GET procmap_query', queryUrl),
        helloTarget(helloQueryServer, queryBytes),
        pairSeconds,
        pairs,
      );
      const [maps, helloMaps] = [mapsPairs.ours, mapsPairs.baseline];
      const [query, helloQuery] = [queryPairs.ours, queryPairs.baseline];
      const batch = await run('POST procmap_query (1000 queries)', batchUrl, post(batchBody));
      const compact = await run('POST procmap_query (1000 addrs)', batchUrl, post(compactBody));
      const mutation = await run(
        'POST brk',
        `${base}/proc/${proc.pid}/brk`,
        post(JSON.stringify({ addr: '0x0' })),
      );
      // Diagnostic: maps and the point query again on the same server once it has served every
      // load above (~3 min in a full run). The figures above are taken in the server's first
      // minutes, while V8 is still tiering up the default population's shared activity thread
      // (~8 % of a core idle in its first 10 s, ~3 % after a minute). These show the settled
      // service, against the same hello-world medians as the rows above.
      const idleSettledShare = await idleCoreShare(serverPid);
      const mapsSettled = await run('GET maps, settled', mapsUrl);
      const querySettled = await run('GET procmap_query, settled', queryUrl);
      // Diagnostic: a point query of each VMA in turn (a different answer each request; the
      // rows above ask for the same address every time), against the hello-world loaded by the
      // same client (a path per request, as long as ours: autocannon's per-request work counts).
      const eachAddr = starts.slice(0, proc.vmas);
      const queryEach = await loadPaired(
        ctx,
        ours('GET procmap_query, each VMA in turn', base, {
          paths: eachAddr.map((a) => `/proc/${proc.pid}/procmap_query?addr=${a}`),
        }),
        {
          ...helloTarget(helloQueryServer, queryBytes),
          url: new URL(helloQueryServer.url).origin,
          opts: { paths: eachAddr.map((a) => `/body?proc=${proc.pid}&procmap_query&addr=${a}`) },
        },
        pairSeconds,
        ctx.reps,
      );

      // Diagnostic: the same point query on a server without the default population's busy
      // background threads (--population 1: one quiet process), to show what they cost a request.
      const quiet = await quietServer(layout);
      const quietQuery = await load(
        ctx,
        { label: 'GET procmap_query, --population 1', url: quiet.queryUrl, pid: quiet.pid },
        seconds,
      ).finally(quiet.stop);

      const section = 'HTTP (autocannon, 50 connections, separate process)';
      const helloMapsName = `fastify hello-world, ${mapsBytes} B body`;
      const helloQueryName = `fastify hello-world, ${queryBytes} B body`;
      figures.push(
        pairedRatioFigure(
          {
            id: 'http.maps',
            section,
            what: `GET /proc/:pid/maps (${proc.vmas} VMAs, ${mapsBytes} B)`,
            unit: 'req/s',
            baselineName: helloMapsName,
            goal: { op: '>=', ratio: MAPS_GOAL },
          },
          mapsPairs.rps,
        ),
        pairedRatioFigure(
          {
            id: 'http.query',
            section,
            what: `GET /proc/:pid/procmap_query (${queryBytes} B)`,
            unit: 'req/s',
            baselineName: helloQueryName,
            goal: { op: '>=', ratio: QUERY_GOAL },
          },
          queryPairs.rps,
        ),
        pairedRatioFigure(
          {
            id: 'http.query_p99',
            section,
            what: 'GET /proc/:pid/procmap_query, latency p99 (autocannon, 1 ms resolution)',
            unit: 'ms',
            baselineName: `${helloQueryName}, p99`,
            goal: { op: '<=', ratio: 2 },
          },
          queryPairs.p99ms,
        ),
        ratioFigure({
          id: 'http.maps_settled',
          section,
          what: 'GET /proc/:pid/maps, diagnostic: the same server after the runs above (settled)',
          unit: 'req/s',
          value: mapsSettled.rps,
          baseline: { name: helloMapsName, value: helloMaps.rps },
        }),
        ratioFigure({
          id: 'http.query_settled',
          section,
          what: 'GET /proc/:pid/procmap_query, diagnostic: the same server after the runs above (settled)',
          unit: 'req/s',
          value: querySettled.rps,
          baseline: { name: helloQueryName, value: helloQuery.rps },
        }),
        pairedRatioFigure(
          {
            id: 'http.query_each_vma',
            section,
            what: `GET /proc/:pid/procmap_query, diagnostic: each of the process's ${eachAddr.length} VMAs in turn`,
            unit: 'req/s',
            baselineName: `${helloQueryName}, a path per request (the same client)`,
          },
          queryEach.rps,
        ),
        ratioFigure({
          id: 'http.mutation',
          section,
          what: 'POST /proc/:pid/brk (a mutation under the mmap write lock)',
          unit: 'req/s',
          value: mutation.rps,
          baseline: { name: helloQueryName, value: helloQuery.rps },
        }),
      );

      const million = { name: 'goal: 1M addresses/s', value: 1e6 };
      for (const [id, form, l] of [
        ['batch_query', '{"queries":[…]}', batch],
        ['batch_compact', '{"addrs":[…]} (compact, column-wise)', compact],
      ] as const) {
        const what = `POST /proc/:pid/procmap_query ${form}, 1,000 addresses per request`;
        const f = { id: `http.${id}`, section, what, unit: 'addresses/s', value: l.rps * 1000 };
        figures.push(ratioFigure({ ...f, baseline: million, goal: { op: '>=', ratio: 1 } }));
      }

      figures.push(
        ...cpuFigures({
          queryBytes,
          mapsBytes,
          query,
          maps,
          helloQuery,
          helloMaps,
          quietQuery,
          queryEach,
          helloQueryName,
          idleStartShare,
          idleSettledShare,
          compact,
          batch,
        }),
      );

      ctx.progress('per-stage CPU of a request (in process)');
      const before = stagesBefore();
      const stageSection = `HTTP: where a request spends CPU (µs, in process; baseline: before the issue 10 HTTP work, ${before.measured})`;
      const stages = await measureRequestStages(`${layout}\n`, ctx.reps);
      for (const st of stages) {
        const f = {
          id: `http.stage.${st.key}`,
          section: stageSection,
          what: st.stage,
          unit: 'µs',
          value: st.us,
        };
        const was = before.stages[st.key];
        figures.push(
          was === undefined ? f : ratioFigure({ ...f, baseline: { name: 'before', value: was } }),
        );
      }
      figures.push(
        ...goalAllowance(
          { id: 'maps', request: 'GET maps', goal: MAPS_GOAL, readStage: 'maps.read' },
          maps,
          helloMaps,
          stages,
        ),
        ...goalAllowance(
          {
            id: 'query',
            request: 'GET procmap_query',
            goal: QUERY_GOAL,
            readStage: 'engine.event_loop',
          },
          query,
          helloQuery,
          stages,
        ),
      );
    } finally {
      for (const s of stoppers) await s();
      await stop(server);
    }
    return figures;
  },
};

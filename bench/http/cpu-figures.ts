/**
 * The HTTP section's "server CPU per request" rows: the server process's CPU (all threads) and its
 * event loop's, divided by the requests served under autocannon (server-cpu.ts), for ours beside
 * the hello-world's with the same body, and the diagnostics (a quiet server, each VMA in turn, the
 * idle server, the batches per address).
 */
import { type Figure, ratioFigure } from '../lib/figure.js';
import type { Load, PairedLoad } from './load-runs.js';

const SECTION = 'HTTP: server CPU per request (under autocannon)';

export interface CpuFigureInputs {
  queryBytes: number;
  mapsBytes: number;
  query: Load;
  maps: Load;
  helloQuery: Load;
  helloMaps: Load;
  /** The point query on a --population 1 server. */
  quietQuery: Load;
  /** The point query of each VMA in turn, paired with the hello-world under the same client. */
  queryEach: PairedLoad;
  helloQueryName: string;
  idleStartShare: number;
  idleSettledShare: number;
  compact: Load;
  batch: Load;
}

export function cpuFigures(i: CpuFigureInputs): Figure[] {
  const { queryBytes, mapsBytes, query, maps, helloQuery, helloMaps, quietQuery } = i;
  const { helloQueryName, idleStartShare, idleSettledShare, compact, batch } = i;
  const out: Figure[] = [];
  for (const [id, what, l] of [
    ['hello_query', `fastify hello-world, ${queryBytes} B (the HTTP stack)`, helloQuery],
    ['hello_maps', `fastify hello-world, ${mapsBytes} B (the HTTP stack)`, helloMaps],
  ] as const) {
    out.push({
      id: `http.cpu.${id}`,
      section: SECTION,
      what,
      unit: 'µs',
      value: l.cpu.processUs,
    });
  }
  // Ours beside the hello-world with the same body: the whole process, and its event loop.
  for (const [id, what, l, hw] of [
    ['query', 'point query', query, helloQuery],
    ['maps', 'maps', maps, helloMaps],
  ] as const) {
    const baseline = { name: 'hello-world, same body size', value: hw.cpu.processUs };
    for (const [part, value] of [
      ['whole process', l.cpu.processUs],
      ['the event loop', l.cpu.mainThreadUs],
    ] as const) {
      const f = { id: `http.cpu.${id}.${part}`, section: SECTION, unit: 'µs', value };
      out.push(ratioFigure({ ...f, what: `${what}: ${part}`, baseline }));
    }
  }
  const quietWhat =
    'point query, diagnostic: server with --population 1 (no busy background threads)';
  const helloBaseline = {
    name: 'hello-world, same body size',
    value: helloQuery.cpu.processUs,
  };
  for (const [part, value] of [
    ['whole process', quietQuery.cpu.processUs],
    ['the event loop', quietQuery.cpu.mainThreadUs],
  ] as const) {
    const f = { id: `http.cpu.query_quiet.${part}`, section: SECTION, unit: 'µs', value };
    out.push(ratioFigure({ ...f, what: `${quietWhat}: ${part}`, baseline: helloBaseline }));
  }
  out.push(
    ratioFigure({
      id: 'http.query_quiet',
      section: SECTION,
      what: `${quietWhat}: requests/s`,
      unit: 'req/s',
      value: quietQuery.rps,
      baseline: { name: helloQueryName, value: helloQuery.rps },
    }),
    {
      id: 'http.cpu.idle',
      section: SECTION,
      what: 'the default server idle (no requests): its CPU, in % of one core',
      unit: '%',
      value: 100 * idleStartShare,
    },
    {
      id: 'http.cpu.idle_settled',
      section: SECTION,
      what: 'the default server idle after the runs above (settled): its CPU, in % of one core',
      unit: '%',
      value: 100 * idleSettledShare,
    },
  );
  for (const [id, what, l] of [
    ['compact', 'compact batch of 1,000 addresses', compact],
    ['batch', 'per-query batch of 1,000 addresses', batch],
  ] as const) {
    const value = l.cpu.processUs / 1000;
    out.push({
      id: `http.cpu.${id}`,
      section: SECTION,
      what: `${what}: per address`,
      unit: 'µs',
      value,
    });
  }
  // Each VMA in turn: a different answer each request (the rows above ask for one address).
  const eachWhat = 'point query, diagnostic: each VMA in turn';
  const eachBaseline = {
    name: 'hello-world, the same client',
    value: i.queryEach.baseline.cpu.mainThreadUs,
  };
  out.push(
    ratioFigure({
      id: 'http.cpu.query_each_vma.the event loop',
      section: SECTION,
      what: `${eachWhat}: the event loop`,
      unit: 'µs',
      value: i.queryEach.ours.cpu.mainThreadUs,
      baseline: eachBaseline,
    }),
  );
  return out;
}

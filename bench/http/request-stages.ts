/**
 * Where the CPU time of one point PROCMAP_QUERY request goes, stage by stage, measured in this
 * process on the same 100-VMA layout as the HTTP section: each stage is the code the request
 * runs for it, called in a loop (CPU time per call, median of `reps` batches). The HTTP stack
 * itself (parser, socket writes, fastify routing) is the hello-world's server CPU per request,
 * measured by the HTTP section under autocannon. "before" rows are what the route did before
 * issue 10 (schema serializer, a labelled histogram observe per request), kept here so the
 * breakdown shows both.
 */
import { readFileSync } from 'node:fs';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import fastJson from 'fast-json-stringify';
import pino from 'pino';
import { defaultConfig } from '../../src/config.js';
import { Sim } from '../../src/cpus/sim.js';
import type { QueryAnswer, QueryArgs, SimApi } from '../../src/cpus/sim-api.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { PidParams } from '../../src/schemas/common.js';
import { exactValidatorCompiler } from '../../src/schemas/exact-params.js';
import {
  formatQueryAnswer,
  QueryAnswerBody,
  QueryString,
  queryAnswerJson,
  toQueryArgs,
} from '../../src/schemas/query.js';
import { validatorCompiler } from '../../src/schemas/validator.js';
import { median } from '../lib/figure.js';

type Validate = (value: unknown) => unknown;

export interface StageCost {
  stage: string;
  /** µs of CPU per request (for dispatch: the event loop's share at 64 requests in flight). */
  us: number;
  note?: string;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * CPU µs of the main thread only (worker threads count in process.cpuUsage(); Node 20 has no
 * threadCpuUsage): the first field of /proc/self/task/PID/schedstat, ns on CPU.
 */
function mainThreadCpuUs(): number {
  const s = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1');
  return Number(s.slice(0, s.indexOf(' '))) / 1000;
}

/** CPU µs per call of a synchronous stage. */
function perCall(reps: number, calls: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < calls; i++) fn(i); // warm-up
  const xs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = cpuUs();
    for (let i = 0; i < calls; i++) fn(i);
    xs.push((cpuUs() - t0) / calls);
  }
  return median(xs);
}

/** Event-loop CPU µs per call of an async stage, `inFlight` calls at a time. */
async function perAsyncCall(
  reps: number,
  calls: number,
  inFlight: number,
  fn: () => Promise<unknown>,
): Promise<number> {
  const round = async () => {
    for (let done = 0; done < calls; done += inFlight) {
      await Promise.all(Array.from({ length: inFlight }, fn));
    }
  };
  await round();
  const xs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = mainThreadCpuUs();
    await round();
    xs.push((mainThreadCpuUs() - t0) / calls);
  }
  return median(xs);
}

async function simQuery(sim: SimApi, pid: number, args: QueryArgs): Promise<QueryAnswer> {
  const [o] = await sim.query(pid, {}, [args]);
  if (o instanceof Error) throw o;
  return o;
}

/** The stage costs of a point query on a process imported from `maps` (about 100 lines). */
export async function measureRequestStages(maps: string, reps: number): Promise<StageCost[]> {
  const calls = 20_000;
  const addr = `0x${maps.split('-')[0]}`;
  const out: StageCost[] = [];

  // Validation: fastify runs the compiled checks of params and querystring per request.
  for (const [when, compiler] of [
    ['before: TypeBoxValidatorCompiler (Value.Convert + Check)', TypeBoxValidatorCompiler],
    ['exactValidatorCompiler (exactness rules + Value.Convert + Check)', exactValidatorCompiler],
    ['now: validatorCompiler (compiled conversion plan + Check)', validatorCompiler],
  ] as const) {
    const params = compiler({ schema: PidParams, httpPart: 'params' } as never) as Validate;
    const query = compiler({ schema: QueryString, httpPart: 'querystring' } as never) as Validate;
    out.push({
      stage: `validation of params + querystring, ${when}`,
      us: perCall(reps, calls, () => {
        params({ pid: '1' });
        query({ addr });
      }),
    });
  }
  out.push({
    stage: 'input parsing (addr, flags → engine numbers)',
    us: perCall(reps, calls, () => toQueryArgs({ addr })),
  });

  const config = defaultConfig({ population: 0 });
  const common = {
    strategy: config.strategy,
    maxProcesses: 8,
    maxVmasPerProcess: config.maxVmasPerProcess,
    maxBatch: config.maxBatch,
    population: 0,
  };
  const local = await Sim.start({ ...common, cpus: 0 });
  const worker = await Sim.start({ ...common, cpus: 2 });
  try {
    const pl = (await local.createProcess({ maps, comm: 'stages' })).pid;
    const pw = (await worker.createProcess({ maps, comm: 'stages' })).pid;
    const args = toQueryArgs({ addr });
    out.push({
      stage: 'engine on the event loop (sim.query, --cpus 0)',
      us: await perAsyncCall(reps, calls, 1, () => simQuery(local, pl, args)),
    });
    out.push({
      stage: 'dispatch to a worker CPU + answer (sim.query, default), event-loop share',
      us: await perAsyncCall(reps, calls / 4, 64, () => simQuery(worker, pw, args)),
      note: '64 in flight',
    });
    const answer = await simQuery(local, pl, args);
    const schemaSerializer = fastJson(QueryAnswerBody as never);
    out.push({
      stage: 'serialisation, before: object + response-schema serializer',
      us: perCall(reps, calls, () => schemaSerializer(formatQueryAnswer(answer))),
    });
    out.push({
      stage: 'serialisation, now: queryAnswerJson by hand',
      us: perCall(reps, calls, () => queryAnswerJson(answer)),
    });
  } finally {
    await worker.close();
  }

  const metrics = createMetricsRegistry({
    instruments: local.instruments,
    gauges: () => ({ processes: 0, vmas: 0 }),
  });
  const labels = { method: 'GET', route: '/proc/:pid/procmap_query', status_code: '200' };
  out.push({
    stage: 'metrics: http_request_duration_seconds observe (onResponse hook)',
    us: perCall(reps, calls, (i) => metrics.httpRequestDuration.observe(labels, i * 1e-6)),
  });
  await local.close();

  // Request logging at info: fastify's two lines per request (incoming, completed), to a
  // discarding destination, vs the level the hot routes use (warn: both calls return at once).
  const sink = pino.destination({ dest: '/dev/null', sync: true });
  const req = { method: 'GET', url: `/proc/1/procmap_query?addr=${addr}`, host: '127.0.0.1:8080' };
  for (const level of ['info', 'warn'] as const) {
    const log = pino({ level }, sink).child({ reqId: 'req-1' });
    out.push({
      stage: `request logging at ${level}${level === 'warn' ? ' (hot routes)' : ''}`,
      us: perCall(reps, calls / 4, (i) => {
        log.info({ req }, 'incoming request');
        log.info({ res: { statusCode: 200 }, responseTime: i * 1e-3 }, 'request completed');
      }),
    });
  }
  return out;
}

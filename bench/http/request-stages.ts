/**
 * Where the CPU time of one request goes, stage by stage, measured in this process on the same
 * 100-VMA layout as the HTTP section: each stage is the code the request runs for it, called in a
 * loop (the main thread's CPU µs per call, median of `reps` batches; until session 20 the
 * process's, which counted the Sims' other threads too). The HTTP stack itself (socket reads, HTTP
 * parsing, fastify routing, socket writes) is the hello-world's server CPU per request, which the
 * HTTP section measures under autocannon, as it measures the server's whole CPU per request.
 *
 * Each stage has a stable key: the figures recorded before the issue 10 HTTP work
 * (`stages-before.json`) are printed beside the current ones.
 */
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { defaultConfig } from '../../src/config.js';
import { Sim } from '../../src/cpus/sim.js';
import type { QueryAnswer, QueryArgs, SimApi } from '../../src/cpus/sim-api.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { PidParams } from '../../src/schemas/common.js';
import {
  buildQueryAnswerJson,
  PointQuery,
  queryAnswerJson,
  toQueryArgs,
} from '../../src/schemas/query.js';
import { validatorCompiler } from '../../src/schemas/validator.js';
import { median } from '../lib/figure.js';
import { measureBatchStages } from './batch-stages.js';
import { measureMapsStages } from './maps-stages.js';

type Validate = (value: unknown) => unknown;

export interface StageCost {
  /** Stable key (stages-before.json). */
  key: string;
  stage: string;
  /** µs of CPU per request (per address for the batch stages). */
  us: number;
}

/**
 * CPU µs of the main thread only (worker threads count in process.cpuUsage(); Node 20 has no
 * threadCpuUsage): the first field of /proc/self/task/PID/schedstat, ns on CPU.
 */
function mainThreadCpuUs(): number {
  const s = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1');
  return Number(s.slice(0, s.indexOf(' '))) / 1000;
}

/**
 * Event-loop CPU µs per call of a synchronous stage: the main thread's own, as the allowance rows
 * compare (process.cpuUsage() would add whatever the Sims' worker CPUs and V8's compiler threads
 * did meanwhile: the maps read's stage 6.7–12 µs by it from one process to the next).
 */
function perCall(reps: number, calls: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < calls; i++) fn(i); // warm-up
  const xs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = mainThreadCpuUs();
    for (let i = 0; i < calls; i++) fn(i);
    xs.push((mainThreadCpuUs() - t0) / calls);
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

/** A route answering a constant, on `app`: what inject costs without our hooks is the baseline. */
function addNoop(app: FastifyInstance): FastifyInstance {
  app.get('/stages/noop', { logLevel: 'warn' }, (_req, reply) => {
    reply.type('application/json; charset=utf-8').send('{"ok":1}');
  });
  return app;
}

/** The hello-world's route (bench/http/hello-server.ts): a constant JSON body of `bytes`. */
function addHello(app: FastifyInstance, bytes: number): FastifyInstance {
  const body = `{"pad":"${'x'.repeat(Math.max(0, bytes - 10))}"}`;
  app.get('/body', (_req, reply) => {
    reply.type('application/json').send(body);
  });
  return app;
}

/**
 * A whole point query through the app (`inject`: routing, hooks, validation, handler, engine,
 * serialisation, metrics; no socket, no HTTP parser), and the hello-world's route with a body of
 * the same size through a bare fastify the same way: their difference is all the JavaScript a
 * point query adds to the hello-world's, the socket aside.
 */
async function injectCosts(sim: SimApi, pid: number, addr: string, reps: number) {
  const config = defaultConfig({ population: 0, port: 0 });
  const app = await buildApp({ config, sim, closeSim: false });
  const url = `/proc/${pid}/procmap_query?addr=${addr}`;
  const headers = { host: '127.0.0.1:8080' };
  const probe = await app.inject({ method: 'GET', url, headers });
  if (probe.statusCode !== 200) throw new Error(`inject ${url}: ${probe.statusCode} ${probe.body}`);
  const bare = addHello(Fastify({ logger: false }), probe.body.length);
  await bare.ready();
  try {
    const query = await perAsyncCall(reps, 4000, 1, () =>
      app.inject({ method: 'GET', url, headers }),
    );
    const hello = await perAsyncCall(reps, 4000, 1, () =>
      bare.inject({ method: 'GET', url: '/body', headers }),
    );
    return { query, hello };
  } finally {
    await Promise.all([app.close(), bare.close()]);
  }
}

/**
 * The app's own hooks (onRequest: the request gate, src/plugins/app/request-gate.ts: upgrade
 * refusal, Host/Origin, shutdown shedding, token, under-pressure; onResponse: request durations):
 * `inject()` of a constant route on the real app minus the same on a bare fastify (0 when the
 * difference is below inject's own noise). The reads' fast path (read-fast-path.ts) is not
 * measured here: inject goes around the server.
 */
async function hookCost(sim: SimApi, reps: number): Promise<number> {
  const config = defaultConfig({ population: 0, port: 0 });
  const app = addNoop(await buildApp({ config, sim, closeSim: false }));
  const bare = addNoop(Fastify({ logger: false }));
  await Promise.all([app.ready(), bare.ready()]);
  const headers = { host: '127.0.0.1:8080' };
  const one = (a: FastifyInstance) => () =>
    a.inject({ method: 'GET', url: '/stages/noop', headers });
  try {
    const withHooks = await perAsyncCall(reps, 4000, 1, one(app));
    const without = await perAsyncCall(reps, 4000, 1, one(bare));
    return Math.max(0, withHooks - without);
  } finally {
    await Promise.all([app.close(), bare.close()]);
  }
}

/**
 * The stage costs of a point query, a maps read and the batches on a process imported from `maps`
 * (about 100 lines).
 */
export async function measureRequestStages(maps: string, reps: number): Promise<StageCost[]> {
  const calls = 20_000;
  const addr = `0x${maps.split('-')[0]}`;
  const out: StageCost[] = [];

  const params = validatorCompiler({ schema: PidParams, httpPart: 'params' } as never) as Validate;
  const query = validatorCompiler({ schema: PointQuery, httpPart: 'querystring' } as never);
  out.push({
    key: 'validation',
    stage: 'validation of params + querystring (compiled conversion plan + Check)',
    us: perCall(reps, calls, () => {
      params({ pid: '1' });
      (query as Validate)({ addr });
    }),
  });
  out.push({
    key: 'parse',
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
    cpus: 2,
  };
  const sim = await Sim.start({ ...common, reads: 'event-loop' });
  const dispatching = await Sim.start({ ...common, reads: 'workers' });
  try {
    const hooks = await hookCost(sim, reps);
    out.push({ key: 'hooks', stage: "the app's fastify hooks (inject, no socket)", us: hooks });
    const pid = (await sim.createProcess({ maps, comm: 'stages' })).pid;
    const pidW = (await dispatching.createProcess({ maps, comm: 'stages' })).pid;
    const args = toQueryArgs({ addr });
    out.push({
      key: 'engine.event_loop',
      stage: 'engine: the read on the event loop (sim.query; default --reads event-loop)',
      us: await perAsyncCall(reps, calls, 1, () => simQuery(sim, pid, args)),
    });
    out.push({
      key: 'engine.dispatch',
      stage:
        'engine: dispatch to a worker CPU + answer (--reads workers), event-loop share, 64 in flight',
      us: await perAsyncCall(reps, calls / 4, 64, () => simQuery(dispatching, pidW, args)),
    });
    const inject = await injectCosts(sim, pid, addr, reps);
    out.push(
      {
        key: 'inject.query',
        stage: 'a whole point query through the app (inject, no socket)',
        us: inject.query,
      },
      {
        key: 'inject.hello',
        stage: 'the hello-world route, same body size, bare fastify (inject, no socket)',
        us: inject.hello,
      },
      {
        key: 'inject.gap',
        stage: 'what a point query adds to the hello-world in JavaScript (the two above)',
        us: inject.query - inject.hello,
      },
    );
    const answer = await simQuery(sim, pid, args);
    out.push(
      {
        key: 'serialize',
        stage:
          'serialisation of an answer written lately (queryAnswerJson: the answer memo finds it)',
        us: perCall(reps, calls, () => queryAnswerJson(answer)),
      },
      {
        key: 'serialize.build',
        stage: 'serialisation of a new answer (buildQueryAnswerJson)',
        us: perCall(reps, calls, () => buildQueryAnswerJson(answer)),
      },
    );
    out.push(...measureMapsStages(sim, pid, reps, { perCall }));

    // The batches, per address (batch-stages.ts).
    out.push(...(await measureBatchStages(sim, pid, maps, reps, { perCall, perAsyncCall })));
  } finally {
    await Promise.all([sim.close(), dispatching.close()]);
  }

  const metrics = createMetricsRegistry({
    instruments: sim.instruments,
    gauges: () => ({ processes: 0, vmas: 0 }),
  });
  const labels = { method: 'GET', route: '/proc/:pid/procmap_query', status_code: '200' };
  out.push({
    key: 'metrics',
    stage: 'metrics: http_request_duration_seconds observe',
    us: perCall(reps, calls, (i) => metrics.httpRequestDuration.observe(labels, i * 1e-6)),
  });

  // Request logging: fastify's two lines per request (incoming, completed) to a discarding
  // destination at info, vs the hot routes' level (warn: both calls return at once).
  const sink = pino.destination({ dest: '/dev/null', sync: true });
  const req = { method: 'GET', url: `/proc/1/procmap_query?addr=${addr}`, host: '127.0.0.1:8080' };
  for (const level of ['info', 'warn'] as const) {
    const log = pino({ level }, sink).child({ reqId: 'req-1' });
    out.push({
      key: `logging.${level}`,
      stage:
        level === 'info'
          ? 'request logging, two lines at info (what it would cost)'
          : 'request logging of the hot routes at the default level (they log at warn)',
      us: perCall(reps, calls / 4, (i) => {
        log.info({ req }, 'incoming request');
        log.info({ res: { statusCode: 200 }, responseTime: i * 1e-3 }, 'request completed');
      }),
    });
  }
  return out;
}

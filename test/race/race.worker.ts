/**
 * The threads of the race tests (run from dist/): a writer that loops one modification and its
 * restore through the writer protocol, and readers that read the chunked maps file and query
 * under one strategy, checking every result against the states the main thread captured.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { StrategyName } from '../../src/metrics/labels.js';
import { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { installWriterHooks, mmWrite } from '../../src/mm/mm-writer.js';
import { ProcmapQueryResult, queryArgs } from '../../src/procfs/procmap-query.js';
import { createReaderContext, strategyByName } from '../../src/procfs/strategies/strategy.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import { HAZARDS, READERS_DONE, ROUNDS, STOP } from './race-control.js';
import {
  checkBoundary,
  firstLine,
  lastLine,
  type RaceCall,
  type RaceSpec,
  runCall,
} from './race-layout.js';

export interface WriterData {
  role: 'writer';
  control: Int32Array;
  mmBuffer: SharedArrayBuffer;
  globals: RaceSpec['globals'];
  rcu: SharedArrayBuffer;
  /** Calls of one round, each with the result it must return. */
  round: Array<{ call: RaceCall; result: number }>;
}

export interface ReaderData {
  role: 'reader';
  control: Int32Array;
  /** Run one phase per strategy, in this order. */
  strategies: StrategyName[];
  spec: RaceSpec;
  /** Lines every read may contain (any state) and lines every read must contain (all states). */
  allowed: string[];
  required: string[];
  /** Minimum iterations and writer rounds (per phase) before the reader may end a phase once it met contention. */
  minIterations: number;
  minRounds: number;
  /** Give up (the test then fails on missing contention) after this long. */
  capMs: number;
  /** Stop only once some reader has seen a hazard (lockless_nofallback hazard test). */
  needHazards: boolean;
  /** The names the query may return (null: not checked). */
  queryNames: string[] | null;
}

export interface ReaderResult {
  strategy: StrategyName;
  iterations: number;
  rounds: number;
  failures: number;
  samples: string[];
  stats: {
    attempts: number;
    retries: number;
    fallbacks: number[];
    hazards: number[];
    mmapLockWaits: number;
    contention: number;
  };
}

export interface WriterResult {
  rounds: number;
  bad: string | null;
}

function attach(
  buffer: SharedArrayBuffer,
  globals: RaceSpec['globals'],
  rcuBuffer: SharedArrayBuffer,
) {
  const rcu = RcuDomain.attach(rcuBuffer);
  rcu.register();
  return { rcu, mm: MmStruct.attach(buffer, MmGlobals.attach(globals), rcu) };
}

function writer(d: WriterData): WriterResult {
  const { rcu, mm } = attach(d.mmBuffer, d.globals, d.rcu);
  installWriterHooks();
  const env = { recorder: null, strategy: 1 as const };
  let rounds = 0;
  let bad: string | null = null;
  while (Atomics.load(d.control, STOP) === 0 && bad === null) {
    for (const { call, result } of d.round) {
      const r = mmWrite(mm, env, 0, () => runCall(mm, call));
      if (r !== result) bad = `${call.op} returned ${r}, expected ${result}`;
    }
    rounds++;
    Atomics.add(d.control, ROUNDS, 1);
  }
  rcu.unregister();
  return { rounds, bad };
}

type Attached = ReturnType<typeof attach>;

/** One phase: reads and queries under `strategy` until contention was met (or the cap). */
function readerPhase(d: ReaderData, strategy: StrategyName, { rcu, mm }: Attached): ReaderResult {
  const { spec } = d;
  const ctx = createReaderContext({ rcu, recorder: null });
  const s = strategyByName(strategy);
  const roundsAtStart = Atomics.load(d.control, ROUNDS);
  const allowed = new Set(d.allowed);
  const out = new ProcmapQueryResult();
  const args = queryArgs(spec.queryAddr, 0, true, false);
  const chunks: string[] = [];
  const onChunk = (b: Uint8Array) => chunks.push(Buffer.from(b).toString('latin1'));
  let failures = 0;
  const samples: string[] = [];
  const fail = (msg: string) => {
    failures++;
    if (samples.length < 5) samples.push(msg);
  };
  const t0 = performance.now();
  let iterations = 0;
  let reportedHazards = 0;
  for (;;) {
    iterations++;
    chunks.length = 0;
    const err = s.readMaps(ctx, mm, 4096, onChunk);
    if (err !== 0) fail(`read failed ${err}`);
    const lines = chunks.join('').slice(0, -1).split('\n');
    const seen = new Set(lines);
    for (const l of lines) if (!allowed.has(l)) fail(`torn or foreign line: ${l}`);
    for (const l of d.required) if (!seen.has(l)) fail(`missing line: ${l}`);
    if (spec.skip < 0) {
      // no boundary pattern to check
    } else if (chunks.length > spec.skip + 1) {
      const m = checkBoundary(spec, lastLine(chunks[spec.skip]), firstLine(chunks[spec.skip + 1]));
      if (m) fail(m);
    } else {
      fail(`only ${chunks.length} chunks`);
    }
    const r = s.query(ctx, mm, args, out);
    if (r !== 0) fail(`query failed ${r}`);
    else if (!spec.queryAnswers.some(([a, b]) => a === out.vmaStart && b === out.vmaEnd)) {
      fail(`query answered ${out.vmaStart.toString(16)}-${out.vmaEnd.toString(16)}`);
    } else if (d.queryNames !== null && !d.queryNames.includes(out.nameString() ?? '')) {
      fail(`query name torn: ${out.nameString()}`);
    }
    const rounds = Atomics.load(d.control, ROUNDS) - roundsAtStart;
    const hazards = ctx.stats.hazards[0] + ctx.stats.hazards[1];
    if (hazards > reportedHazards) {
      Atomics.add(d.control, HAZARDS, hazards - reportedHazards);
      reportedHazards = hazards;
    }
    const met =
      ctx.stats.contention > 0 && (!d.needHazards || Atomics.load(d.control, HAZARDS) > 0);
    if (met && iterations >= d.minIterations && rounds >= d.minRounds) break;
    if (performance.now() - t0 > d.capMs) break;
  }
  const st = ctx.stats;
  return {
    strategy,
    iterations,
    rounds: Atomics.load(d.control, ROUNDS) - roundsAtStart,
    failures,
    samples,
    stats: {
      attempts: st.attempts,
      retries: st.retries,
      fallbacks: [...st.fallbacks],
      hazards: [...st.hazards],
      mmapLockWaits: st.mmapLockWaits,
      contention: st.contention,
    },
  };
}

/** Every strategy in turn on one thread (one worker start-up for all of them). */
function reader(d: ReaderData): ReaderResult[] {
  const attached = attach(d.spec.mmBuffer, d.spec.globals, d.spec.rcu);
  const results = d.strategies.map((s) => readerPhase(d, s, attached));
  Atomics.add(d.control, READERS_DONE, 1);
  attached.rcu.unregister();
  return results;
}

const data = workerData as WriterData | ReaderData;
parentPort?.postMessage(data.role === 'writer' ? writer(data) : reader(data));

/**
 * The per-address stages of the two batch forms of POST /proc/:pid/procmap_query (1,000 addresses
 * of the layout, as the HTTP section sends them), each the code the route runs for it, measured
 * like the other stages (request-stages.ts): JSON.parse of the body, its validation, the parsing
 * of the addresses (for the per-query form one pass with the validation, or — the route's own
 * body parser — one pass over the bytes), the engine on the event loop, the reply written as
 * bytes (into reused memory, as the route does).
 */
import type { SimApi } from '../../src/cpus/sim-api.js';
import {
  BatchQueryBody,
  queryColumnsBytes,
  toCompactQueries,
} from '../../src/schemas/query-columns.js';
import { batchQueryValidator, type QueryEntryBatch } from '../../src/schemas/query-entries.js';
import { scanQueryEntries } from '../../src/schemas/query-entries-scan.js';
import { queryResultsBytes } from '../../src/schemas/query-results.js';
import { ReplyBuffers } from '../../src/schemas/reply-buffers.js';
import type { StageCost } from './request-stages.js';

type Validate = (value: unknown) => unknown;

export interface StageTimers {
  /** CPU µs per call of a synchronous stage. */
  perCall(reps: number, calls: number, fn: () => unknown): number;
  /** Event-loop CPU µs per call of an async stage. */
  perAsyncCall(
    reps: number,
    calls: number,
    inFlight: number,
    fn: () => Promise<unknown>,
  ): Promise<number>;
}

const ADDRESSES = 1000;
const CALLS = 200;

export async function measureBatchStages(
  sim: SimApi,
  pid: number,
  maps: string,
  reps: number,
  t: StageTimers,
): Promise<StageCost[]> {
  const starts = maps
    .trimEnd()
    .split('\n')
    .map((l) => `0x${l.split('-')[0]}`);
  const addrs = Array.from({ length: ADDRESSES }, (_, i) => starts[i % starts.length]);
  // The route's body validator: the schema for the compact form, the one pass for the other.
  const validate = batchQueryValidator({ schema: BatchQueryBody, httpPart: 'body' } as never);
  const perAddress = (fn: () => unknown) => t.perCall(reps, CALLS, fn) / ADDRESSES;
  const out: StageCost[] = [];
  const replies = new ReplyBuffers();
  const common = (key: string, form: string, body: string) => {
    const parsed = JSON.parse(body);
    out.push(
      {
        key: `${key}.json`,
        stage: `${form}: JSON.parse of the body, per address`,
        us: perAddress(() => JSON.parse(body)),
      },
      {
        key: `${key}.validate`,
        stage: `${form}: body validation, per address`,
        us: perAddress(() => (validate as Validate)(parsed)),
      },
    );
  };

  // Compact: {"addrs":[…]}, answered column-wise.
  common('batch', 'compact batch', JSON.stringify({ addrs }));
  const compact = toCompactQueries({ addrs });
  const cols = await sim.queryColumns(pid, {}, compact.batch);
  out.push(
    {
      key: 'batch.parse',
      stage: 'compact batch: address parsing into a Float64Array, per address',
      us: perAddress(() => toCompactQueries({ addrs })),
    },
    {
      key: 'batch.engine',
      stage: 'compact batch: engine on the event loop (sim.queryColumns), per address',
      us:
        (await t.perAsyncCall(reps, CALLS, 1, () => sim.queryColumns(pid, {}, compact.batch))) /
        ADDRESSES,
    },
    {
      key: 'batch.serialize',
      stage: 'compact batch: column-wise answer written into a Buffer, per address',
      us: perAddress(() => replies.release(queryColumnsBytes(compact, cols, replies.take))),
    },
  );

  // Per query: {"queries":[{"addr":…},…]}, one result object per query.
  const queries = addrs.map((addr) => ({ addr }));
  const body = JSON.stringify({ queries });
  const parsed = JSON.parse(body);
  const entries = (validate as Validate)(parsed) as { value: QueryEntryBatch };
  const batch = entries.value.batch;
  const answers = await sim.queryColumns(pid, {}, batch);
  const bytes = Buffer.from(body);
  out.push(
    {
      key: 'batch_q.scan',
      stage:
        'per-query batch: body parsed from its bytes into columns (the route body parser), per address',
      us: perAddress(() => scanQueryEntries(bytes, ADDRESSES)),
    },
    {
      key: 'batch_q.json',
      stage: 'per-query batch, a body the scanner declines: JSON.parse of the body, per address',
      us: perAddress(() => JSON.parse(body)),
    },
    {
      key: 'batch_q.validate',
      stage:
        'per-query batch, a body the scanner declines: validation and entry parsing, one pass (the route validator), per address',
      us: perAddress(() => (validate as Validate)(parsed)),
    },
    {
      key: 'batch_q.engine',
      stage:
        'per-query batch: engine on the event loop (sim.queryColumns, per-entry flags), per address',
      us:
        (await t.perAsyncCall(reps, CALLS, 1, () => sim.queryColumns(pid, {}, batch))) / ADDRESSES,
    },
    {
      key: 'batch_q.serialize',
      stage: 'per-query batch: results written into a Buffer from the columns, per address',
      us: perAddress(() =>
        replies.release(queryResultsBytes(entries.value, answers, replies.take)),
      ),
    },
  );
  return out;
}

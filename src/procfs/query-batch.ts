/**
 * A compact batch of PROCMAP_QUERY ioctls (API.md "Batch queries, compact form"): the same query
 * flags and name request for many addresses, answered column-wise into typed arrays — no object
 * per address on the way in or out, and a reply a worker CPU can transfer without copying.
 *
 * Each address is one `procmapQuery()` against the strategy's target, exactly as the kernel's
 * ioctl runs (setup, lookup, teardown per address: the strategy's locks are taken and dropped per
 * address, so a writer can run between two addresses as between two ioctls). What a batch counts
 * (ReaderContext, instruments): one read per address, every speculation attempt, retry, fallback
 * and hazard where it happens, each mmap read lock taken; only the timing is per batch — the
 * clock is read once at its start and once at its end (a clock read costs about as much as a
 * lookup here) and every address is observed at the batch's mean duration.
 */
import type { StrategyId } from '../metrics/labels.js';
import type { QueryTarget } from './procmap-query.js';
import { ProcmapQueryResult, procmapQuery, QueryScratch, queryArgs } from './procmap-query.js';
import { OP_QUERY, type ReaderContext, ReadWouldWait } from './strategies/reader-context.js';

/** The request: engine addresses (exact below 2^53), one flags value, whether names are wanted. */
export interface AddressBatch {
  addrs: Float64Array;
  flags: number;
  name: boolean;
}

/**
 * The answers, one entry per address in every column. `errno[i]` is 0 where the query succeeded
 * (the other columns then hold its answer) and the positive errno elsewhere (the others are 0).
 */
export interface QueryColumns {
  errno: Int32Array;
  start: Float64Array;
  end: Float64Array;
  offset: Float64Array;
  inode: Float64Array;
  /** PROCMAP_QUERY_VMA_* bits of the VMA. */
  flags: Uint8Array;
  devMajor: Uint32Array;
  devMinor: Uint32Array;
  /** Index into `names`, or -1 when the VMA has no name (or none was asked for). */
  name: Int32Array;
  /** The distinct names of this batch. */
  names: string[];
}

/** Columns for `n` answers, all views of one buffer (one allocation, one transfer). */
export function newQueryColumns(n: number): QueryColumns {
  const b = new ArrayBuffer(n * 49);
  const name = new Int32Array(b, n * 40, n);
  name.fill(-1);
  return {
    start: new Float64Array(b, 0, n),
    end: new Float64Array(b, n * 8, n),
    offset: new Float64Array(b, n * 16, n),
    inode: new Float64Array(b, n * 24, n),
    errno: new Int32Array(b, n * 32, n),
    devMajor: new Uint32Array(b, n * 36, n),
    name,
    devMinor: new Uint32Array(b, n * 44, n),
    flags: new Uint8Array(b, n * 48, n),
    names: [],
  };
}

/** The VMA fields of one answer (a `ProcmapQueryResult`, or the API's `QueryAnswer`). */
export interface AnswerFields {
  vmaStart: number;
  vmaEnd: number;
  vmaOffset: number;
  inode: number;
  vmaFlags: number;
  devMajor: number;
  devMinor: number;
}

/** Puts answer `a` in row `i` of the columns (all but its name). */
export function putAnswer(cols: QueryColumns, i: number, a: AnswerFields): void {
  cols.start[i] = a.vmaStart;
  cols.end[i] = a.vmaEnd;
  cols.offset[i] = a.vmaOffset;
  cols.inode[i] = a.inode;
  cols.flags[i] = a.vmaFlags;
  cols.devMajor[i] = a.devMajor;
  cols.devMinor[i] = a.devMinor;
}

/** The buffer of the columns (a worker CPU's transfer list). */
export function columnBuffers(c: QueryColumns): ArrayBuffer[] {
  return [c.start.buffer as ArrayBuffer];
}

// Per thread (one batch runs at a time on a thread): the ioctl's output and scratch.
const out = new ProcmapQueryResult();
const scratch = new QueryScratch();
/** Names already in the batch being filled: name -> index in its `names`. */
const nameIndex = new Map<string, number>();
/** The same by name key (ProcmapQueryResult.nameKey: a file path's serial): no bytes to decode. */
const keyIndex = new Map<number, number>();
let nameIndexOf: QueryColumns | null = null;
scratch.knownName = (key) => keyIndex.has(key);

/** Starts indexing the names of `cols` (a new batch, or one resumed after others ran). */
function indexNamesOf(cols: QueryColumns): void {
  if (nameIndexOf === cols) return;
  nameIndex.clear();
  keyIndex.clear();
  for (let k = 0; k < cols.names.length; k++) nameIndex.set(cols.names[k], k);
  nameIndexOf = cols;
}

/** The index in `cols.names` of the name `out` holds (decoded only if its key is new). */
function nameOf(cols: QueryColumns): number {
  if (!out.nameCopied) return keyIndex.get(out.nameKey) as number;
  const i = internName(cols, out.nameString() as string);
  if (out.nameKeyed) keyIndex.set(out.nameKey, i);
  return i;
}

function internName(cols: QueryColumns, name: string): number {
  let i = nameIndex.get(name);
  if (i === undefined) {
    i = cols.names.length;
    cols.names.push(name);
    nameIndex.set(name, i);
  }
  return i;
}

/**
 * Runs the queries of addresses [from, to) of `batch` through `target` into `cols`, counted as
 * `to - from` reads of `strategy` on `ctx`. Returns `to`. A lock that the context may not wait
 * for throws `ReadWouldWait` with `resumeAt` = the address it stopped at (the ones before it are
 * answered and counted).
 */
export function runQueryBatch(
  ctx: ReaderContext,
  strategy: StrategyId,
  target: QueryTarget,
  batch: AddressBatch,
  cols: QueryColumns,
  from: number,
  to: number,
): number {
  const args = queryArgs(0, batch.flags, batch.name, false);
  const addrs = batch.addrs;
  let i = from;
  indexNamesOf(cols);
  ctx.beginRead(OP_QUERY, strategy);
  try {
    for (; i < to; i++) {
      args.queryAddr = addrs[i];
      const r = procmapQuery(args, target, out, scratch);
      if (r < 0) {
        cols.errno[i] = -r;
        continue;
      }
      putAnswer(cols, i, out);
      if (out.vmaNameSize > 0) cols.name[i] = nameOf(cols);
    }
  } catch (err) {
    if (err instanceof ReadWouldWait) err.resumeAt = i;
    throw err;
  } finally {
    ctx.endRead(i - from);
  }
  return i;
}

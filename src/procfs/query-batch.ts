/**
 * A batch of PROCMAP_QUERY ioctls answered column-wise into typed arrays — no object per address
 * on the way in or out, and a reply a worker CPU can transfer without copying. Two forms share the
 * loop: the compact batch (API.md "Batch queries, compact form": the same query flags and name
 * request for many addresses) and the per-query batch (`{"queries":[…]}`: each address with its
 * own flags, name and build-id requests, in `AddressBatch.entries`).
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
import {
  ProcmapQueryResult,
  procmapQuery,
  QueryScratch,
  queryArgs,
  setQueryArgs,
} from './procmap-query.js';
import { OP_QUERY, type ReaderContext, ReadWouldWait } from './strategies/reader-context.js';

/** `QueryEntries.want` bits: the query asks for the VMA's name, for its file's build id. */
export const WANT_NAME = 1;
export const WANT_BUILD_ID = 2;

/** The per-query form's own request of each address (index i = address i). */
export interface QueryEntries {
  /** The ioctl's query flags of each address (the kernel's validity check applies per query). */
  flags: Int32Array;
  /** WANT_NAME | WANT_BUILD_ID bits of each address. */
  want: Uint8Array;
}

/**
 * The request: engine addresses (exact below 2^53), one flags value, whether names are wanted;
 * or, with `entries`, each address's own flags and name/build-id requests (`flags` and `name`
 * are then unused).
 */
export interface AddressBatch {
  addrs: Float64Array;
  flags: number;
  name: boolean;
  entries?: QueryEntries;
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
  /** `vma_page_size` (the kernel's vma_kernel_pagesize()). */
  pageSize: Uint32Array;
  /** Index into `names`, or -1 when the VMA has no name (or none was asked for). */
  name: Int32Array;
  /** The distinct names of this batch. */
  names: string[];
  /** Index into `buildIds`, or -1 when the file has none (or none was asked for). */
  buildId: Int32Array;
  /** The distinct build ids of this batch, as lowercase hex. */
  buildIds: string[];
}

/** Columns for `n` answers, all views of one buffer (one allocation, one transfer). */
export function newQueryColumns(n: number): QueryColumns {
  const b = new ArrayBuffer(n * 57);
  const name = new Int32Array(b, n * 40, n);
  name.fill(-1);
  const buildId = new Int32Array(b, n * 48, n);
  buildId.fill(-1);
  return {
    start: new Float64Array(b, 0, n),
    end: new Float64Array(b, n * 8, n),
    offset: new Float64Array(b, n * 16, n),
    inode: new Float64Array(b, n * 24, n),
    errno: new Int32Array(b, n * 32, n),
    devMajor: new Uint32Array(b, n * 36, n),
    name,
    devMinor: new Uint32Array(b, n * 44, n),
    buildId,
    pageSize: new Uint32Array(b, n * 52, n),
    flags: new Uint8Array(b, n * 56, n),
    names: [],
    buildIds: [],
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
  vmaPageSize: number;
}

/** Puts answer `a` in row `i` of the columns (all but its name and build id). */
export function putAnswer(cols: QueryColumns, i: number, a: AnswerFields): void {
  cols.start[i] = a.vmaStart;
  cols.end[i] = a.vmaEnd;
  cols.offset[i] = a.vmaOffset;
  cols.inode[i] = a.inode;
  cols.flags[i] = a.vmaFlags;
  cols.devMajor[i] = a.devMajor;
  cols.devMinor[i] = a.devMinor;
  cols.pageSize[i] = a.vmaPageSize;
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
/** Build ids already in the batch being filled: indexes in its `buildIds` by a hash of the bytes. */
const buildIdIndex = new Map<number, number[]>();
/** The bytes of `buildIds[k]`. */
const buildIdBytes: Uint8Array[] = [];
let nameIndexOf: QueryColumns | null = null;
scratch.knownName = (key) => keyIndex.has(key);

/** Starts indexing the names of `cols` (a new batch, or one resumed after others ran). */
function indexNamesOf(cols: QueryColumns): void {
  if (nameIndexOf === cols) return;
  nameIndex.clear();
  keyIndex.clear();
  buildIdIndex.clear();
  buildIdBytes.length = 0;
  for (let k = 0; k < cols.names.length; k++) nameIndex.set(cols.names[k], k);
  for (let k = 0; k < cols.buildIds.length; k++) {
    const bytes = Buffer.from(cols.buildIds[k], 'hex');
    buildIdBytes[k] = bytes;
    buildIdsHashed(hashOf(bytes, bytes.length)).push(k);
  }
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

function hashOf(bytes: Uint8Array, n: number): number {
  let h = n;
  for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + bytes[i]) | 0;
  return h;
}

/** The indexes of the build ids whose bytes hash to `h`. */
function buildIdsHashed(h: number): number[] {
  let ks = buildIdIndex.get(h);
  if (ks === undefined) {
    ks = [];
    buildIdIndex.set(h, ks);
  }
  return ks;
}

/** The index in `cols.buildIds` of the build id `bytes[0, n)` (hex-encoded only if new). */
function internBuildId(cols: QueryColumns, bytes: Uint8Array, n: number): number {
  const ks = buildIdsHashed(hashOf(bytes, n));
  for (const k of ks) {
    const b = buildIdBytes[k];
    let same = b.length === n;
    for (let i = 0; i < n && same; i++) same = b[i] === bytes[i];
    if (same) return k;
  }
  const copy = bytes.slice(0, n);
  const k = cols.buildIds.push(Buffer.from(copy.buffer, 0, n).toString('hex')) - 1;
  buildIdBytes[k] = copy;
  ks.push(k);
  return k;
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
  const entries = batch.entries;
  let i = from;
  indexNamesOf(cols);
  ctx.beginRead(OP_QUERY, strategy);
  try {
    for (; i < to; i++) {
      args.queryAddr = addrs[i];
      if (entries !== undefined) {
        const want = entries.want[i];
        setQueryArgs(
          args,
          addrs[i],
          entries.flags[i],
          (want & WANT_NAME) !== 0,
          (want & WANT_BUILD_ID) !== 0,
        );
      }
      const r = procmapQuery(args, target, out, scratch);
      if (r < 0) {
        cols.errno[i] = -r;
        continue;
      }
      putAnswer(cols, i, out);
      if (out.vmaNameSize > 0) cols.name[i] = nameOf(cols);
      if (out.buildIdSize > 0) {
        cols.buildId[i] = internBuildId(cols, out.buildId as Uint8Array, out.buildIdSize);
      }
    }
  } catch (err) {
    if (err instanceof ReadWouldWait) err.resumeAt = i;
    throw err;
  } finally {
    ctx.endRead(i - from);
  }
  return i;
}

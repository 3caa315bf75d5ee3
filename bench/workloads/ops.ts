/**
 * One op of each reader and writer of definitions.ts, on a thread attached to a workload's
 * arena. Readers also check what they got: an answer or line that could not exist in any state
 * the writer passes through counts as `torn` (the report's goal is zero in every row).
 */
import type { MutationOpId } from '../../src/metrics/labels.js';
import type { MmStruct } from '../../src/mm/mm-struct.js';
import { mmWrite, type WriterEnv } from '../../src/mm/mm-writer.js';
import {
  mmap,
  mprotect,
  mremap,
  munmap,
  prctlSetVmaAnonName,
} from '../../src/mm/syscalls/index.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_READ,
  PROT_WRITE,
} from '../../src/mm/vm-flags.js';
import {
  PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
  PROCMAP_QUERY_STRUCT_SIZE,
  ProcmapQueryResult,
  queryArgs,
} from '../../src/procfs/procmap-query.js';
import type { ReaderContext, ReadStrategy } from '../../src/procfs/strategies/strategy.js';
import {
  ANON_NAMES,
  MAPS_CHUNK,
  NAMED_VMAS,
  READER_INFO,
  type ReaderName,
  type WriterName,
  xorshift,
} from './definitions.js';
import type { WorkloadPlan } from './layout.js';

const PAGE = 4096;
const NL = 0x0a;
const SLASH = 0x2f;
/** Maps reads whose every line is checked: one in CHECK_EVERY (the check costs a parse). */
const CHECK_EVERY = 8;

export interface ReaderOp {
  /** One op (definitions.ts); returns the bytes handed to the caller (copy_to_user). */
  run(): number;
  /** Answers or lines that no state of the address space could have produced. */
  torn: number;
}

/** `hot`: the point readers query the hot VMA only (what the hot writer flips). */
export function makeReader(
  name: ReaderName,
  s: ReadStrategy,
  ctx: ReaderContext,
  mm: MmStruct,
  plan: WorkloadPlan,
  hot: boolean,
  seed: number,
): ReaderOp {
  const next = xorshift(seed);
  const out = new ProcmapQueryResult();
  const wantName = READER_INFO[name].names;
  const targets: ReadonlyArray<[number, number]> = hot
    ? [[plan.hot.start, plan.hot.end]]
    : plan.text;
  const op: ReaderOp = { run: () => 0, torn: 0 };
  const point = queryArgs(0, 0, wantName, false);
  /** One query of a covered text address; returns the bytes copied out. */
  const queryText = (addr: number): number => {
    point.queryAddr = addr;
    const r = s.query(ctx, mm, point, out);
    const ok =
      r === 0 &&
      out.vmaStart <= addr &&
      addr < out.vmaEnd &&
      (!wantName || (out.vmaNameSize > 1 && out.name[0] === SLASH));
    if (!ok) op.torn++;
    return PROCMAP_QUERY_STRUCT_SIZE + out.vmaNameSize;
  };
  switch (name) {
    case 'query_point':
    case 'query_point_name':
      op.run = () => {
        const [a, b] = targets[next() % targets.length];
        return queryText(a + (next() % ((b - a) / PAGE)) * PAGE + (next() % PAGE));
      };
      break;
    case 'query_batch':
      op.run = () => {
        let bytes = 0;
        for (const addr of plan.batch) bytes += queryText(addr);
        return bytes;
      };
      break;
    case 'query_walk': {
      const walk = queryArgs(0, PROCMAP_QUERY_COVERING_OR_NEXT_VMA, true, false);
      op.run = () => {
        let bytes = 0;
        let addr = 0;
        for (;;) {
          walk.queryAddr = addr;
          const r = s.query(ctx, mm, walk, out);
          if (r !== 0) break; // ENOENT: past the last VMA
          bytes += PROCMAP_QUERY_STRUCT_SIZE + out.vmaNameSize;
          if (out.vmaEnd <= addr || out.vmaStart >= out.vmaEnd) {
            op.torn++;
            break;
          }
          addr = out.vmaEnd;
        }
        return bytes;
      };
      break;
    }
    case 'maps': {
      let bytes = 0;
      let checking = false;
      let lastEnd = -1;
      const onChunk = (b: Uint8Array) => {
        bytes += b.length;
        if (!checking) return;
        if (b.length === 0 || b[b.length - 1] !== NL) op.torn++;
        lastEnd = checkLines(b, lastEnd, op);
      };
      let n = 0;
      op.run = () => {
        bytes = 0;
        checking = n++ % CHECK_EVERY === 0;
        lastEnd = -1;
        if (s.readMaps(ctx, mm, MAPS_CHUNK, onChunk) !== 0) op.torn++;
        return bytes;
      };
      break;
    }
  }
  return op;
}

const LINE =
  /^([0-9a-f]{8,16})-([0-9a-f]{8,16}) [r-][w-][x-][ps] [0-9a-f]{8} [0-9a-f]{2}:[0-9a-f]{2} \d+ ?/;

/**
 * Every line well-formed and the lines' ends strictly ascending: every strategy resumes at the
 * end of the last VMA it showed (kernel.md §3.1–3.2), so even the duplicates per-VMA reads may
 * show keep that order. The gate line ([vsyscall], above every VMA) ends the file.
 */
export function checkLines(b: Uint8Array, lastEnd: number, op: { torn: number }): number {
  const text = Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  let end = lastEnd;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = LINE.exec(line);
    if (m === null) {
      op.torn++;
      continue;
    }
    const s = Number.parseInt(m[1], 16);
    const e = Number.parseInt(m[2], 16);
    if (s >= e || e <= end) op.torn++;
    end = e;
  }
  return end;
}

export interface WriterOp {
  /** One syscall under the writer protocol; throws if it did not do what it should. */
  run(): void;
  /** Runs to the end of the writer's cycle: the address space is as the layout built it. */
  finish(): void;
}

function expect(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`writer: ${what} returned ${got}, expected ${want}`);
}

const OP_MMAP: MutationOpId = 0;
const OP_MUNMAP: MutationOpId = 1;
const OP_MPROTECT: MutationOpId = 2;
const OP_MREMAP: MutationOpId = 3;
const OP_ANON_NAME: MutationOpId = 5;

/** Syscalls per cycle of each writer (after a whole cycle the layout is as built). */
export const WRITER_CYCLE: Readonly<Record<Exclude<WriterName, 'none'>, number>> = {
  cold: 2,
  hot: 2,
  names: 2,
  close: 5,
};

export function makeWriter(
  name: Exclude<WriterName, 'none'>,
  mm: MmStruct,
  plan: WorkloadPlan,
  env: WriterEnv,
  seed: number,
): WriterOp {
  const run = writerStep(name, mm, plan, env, seed);
  let done = 0;
  return {
    run() {
      run();
      done++;
    },
    finish() {
      while (done % WRITER_CYCLE[name] !== 0) this.run();
    },
  };
}

function writerStep(
  name: Exclude<WriterName, 'none'>,
  mm: MmStruct,
  plan: WorkloadPlan,
  env: WriterEnv,
  seed: number,
): () => void {
  const next = xorshift(seed);
  let step = 0;
  const w = (op: MutationOpId, fn: () => number) => mmWrite(mm, env, op, fn);
  switch (name) {
    case 'cold': {
      const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
      let a = 0;
      return () => {
        if (step++ % 2 === 0) {
          a = plan.coldStart + (next() % plan.coldPages) * PAGE;
          expect(
            'mmap',
            w(OP_MMAP, () => mmap(mm, a, PAGE, PROT_READ | PROT_WRITE, flags)),
            a,
          );
        } else
          expect(
            'munmap',
            w(OP_MUNMAP, () => munmap(mm, a, PAGE)),
            0,
          );
      };
    }
    case 'hot': {
      const { start, end, prots } = plan.hot;
      return () => {
        const p = prots[++step % 2];
        expect(
          'mprotect',
          w(OP_MPROTECT, () => mprotect(mm, start, end - start, p)),
          0,
        );
      };
    }
    case 'names':
      return () => {
        const n = ANON_NAMES[++step % 2];
        const len = NAMED_VMAS * PAGE;
        expect(
          'prctl',
          w(OP_ANON_NAME, () => prctlSetVmaAnonName(mm, plan.namedStart, len, n)),
          0,
        );
      };
    case 'close': {
      const { start, len, away } = plan.vdso;
      const move = MREMAP_FIXED | MREMAP_MAYMOVE;
      const page = plan.closePage;
      const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
      return () => {
        switch (step++ % 5) {
          case 0:
            expect(
              'mremap',
              w(OP_MREMAP, () => mremap(mm, start, len, len, move, away)),
              away,
            );
            break;
          case 1:
            expect(
              'mremap',
              w(OP_MREMAP, () => mremap(mm, away, len, len, move, start)),
              start,
            );
            break;
          case 2:
            expect(
              'mmap',
              w(OP_MMAP, () => mmap(mm, page, PAGE, PROT_READ, flags)),
              page,
            );
            break;
          case 3:
            expect(
              'prctl',
              w(OP_ANON_NAME, () => prctlSetVmaAnonName(mm, page, PAGE, ANON_NAMES[0])),
              0,
            );
            break;
          default:
            expect(
              'munmap',
              w(OP_MUNMAP, () => munmap(mm, page, PAGE)),
              0,
            );
        }
      };
    }
  }
}

/**
 * The proc-maps-race set-up (kernel.md §4) on the main thread: the `minimal` template plus
 * `VMA_COUNT` = 129 anonymous 3-page mappings with alternating prot (so they never merge); the
 * 4096-byte chunk that holds the lowest of them, its last line (the VMA the writer modifies) and
 * the next chunk's first line; and, for each modification, the patterns the race check compares
 * with — all captured single-threaded from the engine itself (the direct walker), then restored.
 */
import { type MmGlobalBuffers, MmGlobals, type MmStruct } from '../../src/mm/mm-struct.js';
import { mmap, mprotect, mremap, prctlSetVmaAnonName } from '../../src/mm/syscalls/index.js';
import { buildTemplate } from '../../src/mm/templates/index.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from '../../src/mm/vm-flags.js';
import { MapsCursor } from '../../src/procfs/maps-text.js';
import { ProcmapQueryResult, procmapQuery, queryArgs } from '../../src/procfs/procmap-query.js';
import { directMapsWalker, directQueryTarget } from '../../src/procfs/vma-capture.js';
import { RcuDomain } from '../../src/sync/rcu.js';

export const PAGE = 4096;
export const VMA_COUNT = PAGE / 32 + 1;
export const CHUNK = PAGE;
export type ModName = 'split' | 'resize' | 'remap';
export const MODS: readonly ModName[] = ['split', 'resize', 'remap'];

/** One syscall of the writer's loop, in plain data (the worker replays it). */
export type RaceCall =
  | { op: 'mmap'; addr: number; len: number; prot: number; flags: number }
  | { op: 'mremap'; addr: number; oldLen: number; newLen: number; flags: number; newAddr: number }
  | { op: 'mprotect'; addr: number; len: number; prot: number }
  | { op: 'anon_name'; addr: number; len: number; name: string | null };

export function runCall(mm: MmStruct, c: RaceCall): number {
  switch (c.op) {
    case 'mmap':
      return mmap(mm, c.addr, c.len, c.prot, c.flags);
    case 'mremap':
      return mremap(mm, c.addr, c.oldLen, c.newLen, c.flags, c.newAddr);
    case 'mprotect':
      return mprotect(mm, c.addr, c.len, c.prot);
    case 'anon_name':
      return prctlSetVmaAnonName(mm, c.addr, c.len, c.name);
  }
}

/** What the writer and the readers of one race need (structured-cloneable). */
export interface RaceSpec {
  mod: ModName;
  mmBuffer: SharedArrayBuffer;
  globals: MmGlobalBuffers;
  rcu: SharedArrayBuffer;
  modify: RaceCall;
  restore: RaceCall;
  /** Result each call must return. */
  modifyResult: number;
  restoreResult: number;
  /** Index of the chunk whose last line is the modified VMA's (-1: no boundary check). */
  skip: number;
  origLast: string;
  origFirst: string;
  modLast: string;
  modFirst: string;
  restoredLast: string;
  restoredFirst: string;
  /** Every line of the file before / after the modification. */
  beforeLines: string[];
  afterLines: string[];
  /** The query the readers run, and the answers allowed (before / after): [start, end). */
  queryAddr: number;
  queryAnswers: Array<[number, number]>;
}

export function chunksOf(mm: MmStruct, limit = CHUNK): string[] {
  const cursor = new MapsCursor(limit);
  const walker = directMapsWalker(mm);
  const out: string[] = [];
  while (cursor.readChunk(walker) > 0) out.push(Buffer.from(cursor.chunk()).toString('latin1'));
  return out;
}

const linesOf = (chunk: string) => chunk.slice(0, -1).split('\n');
export const lastLine = (chunk: string) => linesOf(chunk).at(-1) ?? '';
export const firstLine = (chunk: string) => linesOf(chunk)[0];
const startOf = (line: string) => Number.parseInt(line.split('-')[0], 16);

function queryRange(mm: MmStruct, addr: number): [number, number] {
  const out = new ProcmapQueryResult();
  const r = procmapQuery(queryArgs(addr, 0, false, false), directQueryTarget(mm), out);
  if (r !== 0) throw new Error(`race layout: query ${addr.toString(16)} failed ${r}`);
  return [out.vmaStart, out.vmaEnd];
}

function boundary(mm: MmStruct, skip: number): [string, string] {
  const c = chunksOf(mm);
  return [lastLine(c[skip]), firstLine(c[skip + 1])];
}

/** Builds the layout and captures the patterns of `mod` (kernel.md §4 capture_mod_pattern). */
export function buildRace(mod: ModName): RaceSpec {
  const globals = MmGlobals.create({ maxFiles: 1024, fileHeapBytes: 1 << 18, anonNameSlots: 256 });
  const rcu = RcuDomain.create();
  const mm = buildTemplate('minimal', { globals, seed: 11, grace: rcu, maxVmas: 4096 });
  const starts: number[] = [];
  const prots = new Map<number, number>();
  let prot = PROT_READ | PROT_WRITE;
  for (let i = 0; i < VMA_COUNT; i++) {
    const a = mmap(mm, 0, 3 * PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS);
    if (a < 0) throw new Error(`race layout: mmap ${a}`);
    starts.push(a);
    prots.set(a, prot);
    prot ^= PROT_WRITE;
  }
  const lowest = Math.min(starts[0], starts[VMA_COUNT - 1]);
  const chunks = chunksOf(mm);
  const skip = chunks.findIndex((c) =>
    linesOf(c).some((l) =>
      l.startsWith(`${lowest.toString(16)}-${(lowest + 3 * PAGE).toString(16)} `),
    ),
  );
  if (skip < 0 || skip + 1 >= chunks.length) throw new Error('race layout: no boundary');
  const origLast = lastLine(chunks[skip]);
  const origFirst = firstLine(chunks[skip + 1]);
  const addr = startOf(origLast);
  const nextAddr = startOf(origFirst);
  const p = prots.get(addr);
  if (p === undefined || !prots.has(nextAddr)) throw new Error('race layout: boundary not ours');
  const fixed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
  let modify: RaceCall;
  let restore: RaceCall;
  let queryAddr: number;
  if (mod === 'split') {
    modify = { op: 'mmap', addr, len: PAGE, prot: PROT_NONE, flags: fixed };
    restore = { op: 'mmap', addr, len: PAGE, prot: p, flags: fixed };
    queryAddr = addr + PAGE;
  } else if (mod === 'resize') {
    modify = { op: 'mremap', addr, oldLen: 3 * PAGE, newLen: PAGE, flags: 0, newAddr: 0 };
    restore = { op: 'mremap', addr, oldLen: PAGE, newLen: 3 * PAGE, flags: 0, newAddr: 0 };
    queryAddr = addr;
  } else {
    const flags = MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
    modify = {
      op: 'mremap',
      addr: nextAddr + 2 * PAGE,
      oldLen: PAGE,
      newLen: PAGE,
      flags,
      newAddr: addr + PAGE,
    };
    restore = { op: 'mprotect', addr: addr + PAGE, len: PAGE, prot: p };
    queryAddr = addr + PAGE;
  }
  const beforeText = chunks.join('');
  const before = queryRange(mm, queryAddr);
  const modifyResult = runCall(mm, modify);
  if (modifyResult < 0) throw new Error(`race layout: modify ${modifyResult}`);
  const [modLast, modFirst] = boundary(mm, skip);
  const afterText = chunksOf(mm).join('');
  const after = queryRange(mm, queryAddr);
  const restoreResult = runCall(mm, restore);
  if (restoreResult < 0) throw new Error(`race layout: restore ${restoreResult}`);
  const [restoredLast, restoredFirst] = boundary(mm, skip);
  if (chunksOf(mm).join('') !== beforeText) throw new Error('race layout: restore differs');
  return {
    mod,
    mmBuffer: mm.buffer,
    globals: globals.buffers(),
    rcu: rcu.buffer,
    modify,
    restore,
    modifyResult,
    restoreResult,
    skip,
    origLast,
    origFirst,
    modLast,
    modFirst,
    restoredLast,
    restoredFirst,
    beforeLines: beforeText.slice(0, -1).split('\n'),
    afterLines: afterText.slice(0, -1).split('\n'),
    queryAddr,
    queryAnswers: [before, after],
  };
}

/**
 * The selftest's per-iteration check of one pair of boundary lines; returns a message or null.
 * Each pair must be the modified pair, the restored pair, or the allowed duplicate (the modified
 * last line followed by the restored last line: the VMA shown again after it was restored).
 */
export function checkBoundary(s: RaceSpec, last: string, first: string): string | null {
  if (last === s.modLast) {
    if (first !== s.modFirst && first !== s.restoredLast) {
      return `${s.mod} result invalid: [${last}] then [${first}]`;
    }
  } else if (last !== s.restoredLast || first !== s.restoredFirst) {
    return `restore result invalid: [${last}] then [${first}]`;
  }
  if (s.mod === 'split') {
    // First and last lines change in unison.
    if ((last !== s.origLast) !== (first !== s.origFirst))
      return `split not in unison: ${last} / ${first}`;
  }
  return null;
}

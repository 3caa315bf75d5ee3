/**
 * The text of /proc/PID/smaps blocks and of smaps_rollup, byte-identical to Linux 6.18's
 * fs/proc/task_mmu.c (`show_smap`, `__show_smap`, `show_smap_vma_flags`, `show_smaps_rollup`):
 *
 *   <the maps line>
 *   Size:           %8lu kB          (name padded to 16 columns, value right-aligned in 8)
 *   KernelPageSize / MMUPageSize, then __show_smap: Rss, Pss, Pss_Dirty, [rollup: Pss_Anon,
 *   Pss_File, Pss_Shmem], Shared_Clean, Shared_Dirty, Private_Clean, Private_Dirty, Referenced,
 *   Anonymous, KSM, LazyFree, AnonHugePages, ShmemPmdMapped, FilePmdMapped, Shared_Hugetlb,
 *   Private_Hugetlb (17-column name, width 7), Swap, SwapPss, Locked
 *   THPeligible:    %8u            (no unit)
 *   ProtectionKey:  %8u            (only when the CPU has protection keys: arch_pkeys_enabled())
 *   VmFlags: rd wr mr mw me ac     (every mnemonic followed by a space, in bit order)
 *
 * Bytes are written straight into a `ByteSink` (`seq_put_decimal_ull_width`), like the maps line.
 */

import { type PageCounts, PSS_SHIFT } from '../mm/pages/page-counts.js';
import { ANON_VMA_BITS } from '../mm/syscalls/anon-vma.js';
import { VM_PKEY_EXEC_ONLY } from '../mm/syscalls/pkey.js';
import type { ByteSink } from './byte-sink.js';
import { asciiBytes, decimalDigits, writeBytes, writeDecimal, writeHex } from './hex.js';
import { MAPS_NAME_PAD, writeMapsLine } from './maps-line.js';
import type { VmaView } from './vma-view.js';

/** The execute-only key the kernel allocates for an mm (pkey 0 is the default key). */
export const EXEC_ONLY_PKEY = 1;

/**
 * `mnemonics[]` of show_smap_vma_flags() for bits 0..31 on x86-64 (CONFIG_MEM_SOFT_DIRTY off, as
 * on the reference host: bit 27 prints nothing). Bits the engine uses for its own bookkeeping are
 * masked before printing (`VMFLAGS_HIDDEN`), so "gu", "uw", "um", "mg", "ar" never come from them.
 */
// biome-ignore format: one row per 16 bits
const MNEMONICS: readonly string[] = [
  'rd', 'wr', 'ex', 'sh', 'mr', 'mw', 'me', 'ms', 'gd', 'um', 'pf', 'gu', 'uw', 'lo', 'io', 'sr',
  'rr', 'dc', 'de', 'lf', 'ac', 'nr', 'ht', 'sf', 'ar', 'wf', 'dd', '', 'mm', 'hg', 'nh', 'mg',
];
const MNEMONIC_BYTES = MNEMONICS.map((m) => asciiBytes(m));

/**
 * Engine bits that are not the kernel's flags: the anon_vma state (anon-vma.ts) and the
 * execute-only protection key (pkey.ts, kept in VM_ARCH_1; smaps shows it as ProtectionKey).
 */
export const VMFLAGS_HIDDEN = (ANON_VMA_BITS | VM_PKEY_EXEC_ONLY) >>> 0;

const SIZE = asciiBytes('Size:           ');
const KERNEL_PAGE_SIZE = asciiBytes('KernelPageSize: ');
const MMU_PAGE_SIZE = asciiBytes('MMUPageSize:    ');
const RSS = asciiBytes('Rss:            ');
const PSS = asciiBytes('Pss:            ');
const PSS_DIRTY = asciiBytes('Pss_Dirty:      ');
const PSS_ANON = asciiBytes('Pss_Anon:       ');
const PSS_FILE = asciiBytes('Pss_File:       ');
const PSS_SHMEM = asciiBytes('Pss_Shmem:      ');
const SHARED_CLEAN = asciiBytes('Shared_Clean:   ');
const SHARED_DIRTY = asciiBytes('Shared_Dirty:   ');
const PRIVATE_CLEAN = asciiBytes('Private_Clean:  ');
const PRIVATE_DIRTY = asciiBytes('Private_Dirty:  ');
const REFERENCED = asciiBytes('Referenced:     ');
const ANONYMOUS = asciiBytes('Anonymous:      ');
const KSM = asciiBytes('KSM:            ');
const LAZY_FREE = asciiBytes('LazyFree:       ');
const ANON_HUGE_PAGES = asciiBytes('AnonHugePages:  ');
const SHMEM_PMD_MAPPED = asciiBytes('ShmemPmdMapped: ');
const FILE_PMD_MAPPED = asciiBytes('FilePmdMapped:  ');
const SHARED_HUGETLB = asciiBytes('Shared_Hugetlb: ');
const PRIVATE_HUGETLB = asciiBytes('Private_Hugetlb: ');
const SWAP = asciiBytes('Swap:           ');
const SWAP_PSS = asciiBytes('SwapPss:        ');
const LOCKED = asciiBytes('Locked:         ');
const THP_ELIGIBLE = asciiBytes('THPeligible:    ');
const PROTECTION_KEY = asciiBytes('ProtectionKey:  ');
const VM_FLAGS = asciiBytes('VmFlags: ');
const KB_EOL = asciiBytes(' kB\n');
const ROLLUP_NAME = asciiBytes('[rollup]\n');
/** show_vma_header_prefix() with flags, pgoff, dev and inode all 0. */
const ROLLUP_PREFIX = asciiBytes(' ---p 00000000 00:00 0 ');

/** Bytes a block takes besides its maps line (23 fields of ≤ 40 bytes, pkey, 32 mnemonics). */
const BLOCK_FIELDS_MAX = 2048;

/** `seq_put_decimal_ull_width(label, v, width)`: the label, then v right-aligned in `width`. */
export function writeWidth(
  b: Uint8Array,
  pos: number,
  label: Uint8Array,
  v: number,
  width: number,
): number {
  let p = writeBytes(b, pos, label, 0, label.length);
  for (let pad = width - decimalDigits(v); pad > 0; pad--) b[p++] = 0x20;
  return writeDecimal(b, p, v);
}

/** One `Name:   %8lu kB` line; `bytes` is shifted to kB as SEQ_PUT_DEC does (`>> 10`). */
function kbLine(b: Uint8Array, pos: number, label: Uint8Array, bytes: number, width = 8): number {
  const p = writeWidth(b, pos, label, Math.floor(bytes / 1024), width);
  return writeBytes(b, p, KB_EOL, 0, KB_EOL.length);
}

/** A PSS fixed-point value in bytes (`>> PSS_SHIFT`). */
function pssBytes(v: number): number {
  return Math.floor(v / 2 ** PSS_SHIFT);
}

/** `__show_smap()`: from Rss to Locked. */
function writeStats(b: Uint8Array, pos: number, mss: PageCounts, rollup: boolean): number {
  let p = kbLine(b, pos, RSS, mss.resident);
  p = kbLine(b, p, PSS, pssBytes(mss.pss));
  p = kbLine(b, p, PSS_DIRTY, pssBytes(mss.pssDirty));
  if (rollup) {
    p = kbLine(b, p, PSS_ANON, pssBytes(mss.pssAnon));
    p = kbLine(b, p, PSS_FILE, pssBytes(mss.pssFile));
    p = kbLine(b, p, PSS_SHMEM, pssBytes(mss.pssShmem));
  }
  p = kbLine(b, p, SHARED_CLEAN, mss.sharedClean);
  p = kbLine(b, p, SHARED_DIRTY, mss.sharedDirty);
  p = kbLine(b, p, PRIVATE_CLEAN, mss.privateClean);
  p = kbLine(b, p, PRIVATE_DIRTY, mss.privateDirty);
  p = kbLine(b, p, REFERENCED, mss.referenced);
  p = kbLine(b, p, ANONYMOUS, mss.anonymous);
  p = kbLine(b, p, KSM, mss.ksm);
  p = kbLine(b, p, LAZY_FREE, mss.lazyFree);
  p = kbLine(b, p, ANON_HUGE_PAGES, mss.anonHugePages);
  p = kbLine(b, p, SHMEM_PMD_MAPPED, mss.shmemPmdMapped);
  p = kbLine(b, p, FILE_PMD_MAPPED, mss.filePmdMapped);
  p = kbLine(b, p, SHARED_HUGETLB, mss.sharedHugetlb);
  p = kbLine(b, p, PRIVATE_HUGETLB, mss.privateHugetlb, 7);
  p = kbLine(b, p, SWAP, mss.swap);
  p = kbLine(b, p, SWAP_PSS, pssBytes(mss.swapPss));
  return kbLine(b, p, LOCKED, pssBytes(mss.pssLocked));
}

/** `show_smap_vma_flags()` for the kernel bits of `flags`. */
function writeVmFlags(b: Uint8Array, pos: number, flags: number): number {
  let p = writeBytes(b, pos, VM_FLAGS, 0, VM_FLAGS.length);
  const shown = (flags & ~VMFLAGS_HIDDEN) >>> 0;
  for (let bit = 0; bit < 32; bit++) {
    const m = MNEMONIC_BYTES[bit];
    if (m.length === 0 || (shown & (2 ** bit)) === 0) continue;
    b[p++] = m[0];
    b[p++] = m[1];
    b[p++] = 0x20;
  }
  b[p++] = 0x0a;
  return p;
}

/** The protection key `vma_pkey()` reads from the VMA's flags. */
export function vmaPkey(flags: number): number {
  return flags & VM_PKEY_EXEC_ONLY ? EXEC_ONLY_PKEY : 0;
}

/**
 * Appends the smaps block of the VMA in `view` with its gathered stats. `pkeys`: the machine has
 * protection keys (the `ProtectionKey` line). `thpEligible`: THPeligible's 0/1. Returns the bytes
 * written.
 */
export function writeSmapsBlock(
  sink: ByteSink,
  view: VmaView,
  mss: PageCounts,
  pkeys: boolean,
  thpEligible: number,
): number {
  const start = sink.length;
  writeMapsLine(sink, view);
  sink.reserve(BLOCK_FIELDS_MAX);
  const b = sink.bytes;
  let p = kbLine(b, sink.length, SIZE, view.end - view.start);
  p = kbLine(b, p, KERNEL_PAGE_SIZE, 4096);
  p = kbLine(b, p, MMU_PAGE_SIZE, 4096);
  p = writeStats(b, p, mss, false);
  p = writeWidth(b, p, THP_ELIGIBLE, thpEligible, 8);
  b[p++] = 0x0a;
  if (pkeys) {
    p = writeWidth(b, p, PROTECTION_KEY, vmaPkey(view.flags), 8);
    b[p++] = 0x0a;
  }
  sink.length = writeVmFlags(b, p, view.flags);
  return sink.length - start;
}

/**
 * Appends smaps_rollup: the header line `start-end ---p 00000000 00:00 0` padded like a maps
 * name column, `[rollup]`, then the summed stats with the Pss_Anon/File/Shmem lines. `start` is
 * the first VMA's start and `end` the end of the last VMA walked (0 and 0 with no VMA).
 */
export function writeRollup(sink: ByteSink, start: number, end: number, mss: PageCounts): number {
  const from = sink.length;
  sink.reserve(BLOCK_FIELDS_MAX + 128);
  const b = sink.bytes;
  let p = writeHex(b, from, start, 8);
  b[p++] = 0x2d;
  p = writeHex(b, p, end, 8);
  p = writeBytes(b, p, ROLLUP_PREFIX, 0, ROLLUP_PREFIX.length);
  const padEnd = from + MAPS_NAME_PAD;
  while (p < padEnd) b[p++] = 0x20;
  b[p++] = 0x20;
  p = writeBytes(b, p, ROLLUP_NAME, 0, ROLLUP_NAME.length);
  sink.length = writeStats(b, p, mss, true);
  return sink.length - from;
}

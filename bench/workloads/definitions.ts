/**
 * The workloads of the strategy comparison (issue 9), defined once: `npm run report`, the
 * benchmark and the tests all take readers, writers and layouts from here, and the host kernel
 * twin (bench/kernel/kbench.c) runs the same names.
 *
 * One reader "op" is the unit its throughput is counted in (and what per-1k rates refer to):
 *   query_point       one PROCMAP_QUERY, flags 0, no name, at a random address inside a
 *                     file-backed executable (text) VMA — a symbolizer without names
 *   query_point_name  the same with the name requested (PATH_MAX buffer) — a symbolizer
 *   query_batch       3,244 sorted addresses (464 distinct, in text VMAs) resolved one ioctl each:
 *                     the batch of Nakryiko's figure (kernel.md §5.2); one op = the whole batch
 *   query_walk        COVERING_OR_NEXT_VMA from 0 to the end with names (tools that avoid text
 *                     parsing); one op = the whole walk
 *   maps              the whole /proc/PID/maps in 4 KiB read() chunks; one op = the whole file
 * One writer op is one syscall under the writer protocol (src/mm/mm-writer.ts):
 *   none   no writer (the reader alone)
 *   cold   mmap + munmap of one page at a random place in an empty 128 MiB range: never a VMA a
 *          point query hits (Paul McKenney's test)
 *   hot    mprotect flip of the whole "hot" text VMA, the one the point readers query under this
 *          writer: the worst case
 *   names  anon-name churn: 16 one-page VMAs renamed back and forth ("fancy" VMAs: the lockless
 *          fallback path; each rename frees the old name's storage)
 *   close  special-mapping VMAs closed under readers ([vdso] moved away and back by mremap: the
 *          old VMA's close op runs and its vm_ops become the dummy ops, Jann Horn's
 *          vm_ops->name race) and a named page mapped, named and unmapped (its name freed)
 * Layouts: the `node` and `jvm` templates, and `vmas10k` (the node template grown to 10,000 VMAs
 * with alternating-protection 2-page anonymous mappings, as kbench and proc-maps-race build them).
 */

export const READERS = [
  'query_point',
  'query_point_name',
  'query_batch',
  'query_walk',
  'maps',
] as const;
export type ReaderName = (typeof READERS)[number];

export const WRITERS = ['none', 'cold', 'hot', 'names', 'close'] as const;
export type WriterName = (typeof WRITERS)[number];

export const LAYOUTS = ['node', 'jvm', 'vmas10k'] as const;
export type LayoutName = (typeof LAYOUTS)[number];

/** Addresses per query_batch op, and how many distinct ones (kernel.md §5.2). */
export const BATCH_ADDRESSES = 3244;
export const BATCH_DISTINCT = 464;
/** The maps reader's read() size. */
export const MAPS_CHUNK = 4096;
/** The cold writer's empty range. */
export const COLD_RANGE_BYTES = 128 * 1024 * 1024;
/** VMAs of the `vmas10k` layout. */
export const LARGE_LAYOUT_VMAS = 10_000;
/** The names writer's named VMAs (one page each, alternating protection so they never merge). */
export const NAMED_VMAS = 16;
export const ANON_NAMES = ['churn-a', 'churn-bbbbbbbbbbbbbbbbbbbbbbbb'] as const;
/** PROCMAP_QUERY name buffer (PATH_MAX). */
export const NAME_BUFFER = 4096;

/** Per reader: whether it asks for names, and what one op is (for the report's legend). */
export const READER_INFO: Readonly<Record<ReaderName, { names: boolean; op: string }>> = {
  query_point: { names: false, op: 'ioctl' },
  query_point_name: { names: true, op: 'ioctl' },
  query_batch: { names: false, op: `batch of ${BATCH_ADDRESSES} ioctls` },
  query_walk: { names: true, op: 'walk of the whole address space' },
  maps: { names: true, op: 'whole maps file in 4 KiB reads' },
};

export const WRITER_INFO: Readonly<Record<WriterName, string>> = {
  none: 'no writer',
  cold: 'mmap+munmap of one page in an empty 128 MiB range',
  hot: 'mprotect flip of the VMA the point readers query',
  names: 'anon-name churn on 16 named VMAs',
  close: '[vdso] moved away and back (close op) + named page mapped and unmapped',
};

export function isReader(s: string): s is ReaderName {
  return (READERS as readonly string[]).includes(s);
}
export function isWriter(s: string): s is WriterName {
  return (WRITERS as readonly string[]).includes(s);
}
export function isLayout(s: string): s is LayoutName {
  return (LAYOUTS as readonly string[]).includes(s);
}

/** xorshift32: the deterministic generator every workload draws from. Never returns 0. */
export function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

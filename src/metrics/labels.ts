// The bounded label enums of the engine metrics (names and values are API: ../shared/API.md,
// "GET /metrics"). Hot paths pass the small numeric ids (array indexes), never strings; the
// exposition turns ids back into these strings. Changing the order of an array changes the
// shared-memory layout (families.ts), so append, never reorder.

import { LINUX_ERRNOS } from './errno-names.js';

/** Locking strategies (API.md "Locking strategies"). */
export const STRATEGIES = [
  'mmap_lock',
  'per_vma',
  'snapshot',
  'lockless',
  'lockless_nofallback',
] as const;
export type StrategyName = (typeof STRATEGIES)[number];
/** The indexes of a const tuple, as a union of number literals. */
type IndexOf<T extends readonly unknown[]> = {
  [K in keyof T]: K extends `${infer N extends number}` ? N : never;
}[number];
/** Derived from STRATEGIES: a sixth strategy is one more name there. */
export type StrategyId = IndexOf<typeof STRATEGIES>;

export function isStrategyName(s: string): s is StrategyName {
  return (STRATEGIES as readonly string[]).includes(s);
}

/** Which lock a hold/wait time is about. */
export const LOCKS = ['mmap_lock', 'vma_lock'] as const;
export type LockName = (typeof LOCKS)[number];
export type LockId = 0 | 1;

export const LOCK_MODES = ['read', 'write'] as const;
export type LockModeName = (typeof LOCK_MODES)[number];
export type LockModeId = 0 | 1;

/**
 * Read operations: a maps read (all its chunks), one PROCMAP_QUERY, or a whole read of smaps,
 * smaps_rollup or status (those three always take the mmap read lock: strategy `mmap_lock`).
 */
export const READ_OPS = ['maps', 'query', 'smaps', 'smaps_rollup', 'status'] as const;
export type ReadOpName = (typeof READ_OPS)[number];
export type ReadOpId = IndexOf<typeof READ_OPS>;

/** Why a speculative/per-VMA reader fell back to the mmap read lock. */
export const FALLBACK_REASONS = ['contention', 'fancy_vma', 'detached', 'retry_limit'] as const;
export type FallbackReasonName = (typeof FALLBACK_REASONS)[number];
export type FallbackReasonId = 0 | 1 | 2 | 3;

/** What a lockless_nofallback reader detected it had raced with. */
export const HAZARD_KINDS = ['use_after_free', 'null_deref'] as const;
export type HazardKindName = (typeof HAZARD_KINDS)[number];
export type HazardKindId = 0 | 1;

export const MUTATION_OPS = [
  'mmap',
  'munmap',
  'mprotect',
  'mremap',
  'brk',
  'anon_name',
  'madvise',
  'fork',
  'exit',
] as const;
export type MutationOpName = (typeof MUTATION_OPS)[number];
export type MutationOpId = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** The page-fault path (arch/x86/mm/fault.c): the per-VMA lock, or the mmap_lock fallback. */
export const FAULT_PATHS = ['vma_lock', 'mmap_lock'] as const;
export type FaultPathId = 0 | 1;
/** How a fault ended: handled, SIGSEGV/SIGBUS (answered EFAULT), out of page-state memory. */
export const FAULT_RESULTS = ['ok', 'EFAULT', 'ENOMEM'] as const;
export type FaultResultId = 0 | 1 | 2;

/** The fault result id of an errno (0 = handled). */
export function faultResultId(errno: number): FaultResultId {
  if (errno === 0) return 0;
  return errno === 12 ? 2 : 1;
}

/**
 * The errnos a mutation may end with, for the `result` label: all of Linux's (errno-names.ts),
 * so a new error path in the engine never lacks a label. Only the ones that occur are printed.
 */
export const MUTATION_ERRNOS: ReadonlyArray<readonly [name: string, errno: number]> = LINUX_ERRNOS;

/** `result` label values of procfs_mutations_total: `ok` (id 0), then the errno names. */
export const MUTATION_RESULTS: readonly string[] = ['ok', ...MUTATION_ERRNOS.map(([name]) => name)];
/** A `result` id: 0 = ok, else an index into MUTATION_RESULTS. */
export type MutationResultId = number;
export const MUTATION_RESULT_OK: MutationResultId = 0;

const resultIdByErrno = new Map<number, MutationResultId>(
  MUTATION_ERRNOS.map(([, errno], i) => [errno, i + 1]),
);
const resultIdByName = new Map<string, MutationResultId>(MUTATION_RESULTS.map((n, i) => [n, i]));

/**
 * The `result` id for a syscall's return value in the kernel convention: `>= 0` is success,
 * `< 0` is `-errno`. Throws RangeError for a value that is no Linux errno (e.g. a
 * kernel-internal code such as ENOIOCTLCMD, which user space never sees).
 */
export function mutationResultId(syscallReturn: number): MutationResultId {
  if (syscallReturn >= 0) return MUTATION_RESULT_OK;
  const id = resultIdByErrno.get(-syscallReturn);
  if (id === undefined) {
    throw new RangeError(`errno ${-syscallReturn} has no procfs_mutations_total result label`);
  }
  return id;
}

/** The `result` id for `ok` or an errno name such as `EINVAL`; throws RangeError if unknown. */
export function mutationResultIdByName(name: string): MutationResultId {
  const id = resultIdByName.get(name);
  if (id === undefined) throw new RangeError(`unknown mutation result label ${name}`);
  return id;
}

function idLookup<Name extends string, Id extends number>(
  values: readonly Name[],
  what: string,
): (name: string) => Id {
  const ids = new Map<string, number>(values.map((v, i) => [v, i]));
  return (name: string): Id => {
    const id = ids.get(name);
    if (id === undefined) throw new RangeError(`unknown ${what} ${name}`);
    return id as Id;
  };
}

// Name -> id, for the cold paths (config, route parameters); each throws RangeError if unknown.
export const strategyId = idLookup<StrategyName, StrategyId>(STRATEGIES, 'strategy');
export const lockId = idLookup<LockName, LockId>(LOCKS, 'lock');
export const lockModeId = idLookup<LockModeName, LockModeId>(LOCK_MODES, 'lock mode');
export const readOpId = idLookup<ReadOpName, ReadOpId>(READ_OPS, 'read op');
export const fallbackReasonId = idLookup<FallbackReasonName, FallbackReasonId>(
  FALLBACK_REASONS,
  'fallback reason',
);
export const hazardKindId = idLookup<HazardKindName, HazardKindId>(HAZARD_KINDS, 'hazard kind');
export const mutationOpId = idLookup<MutationOpName, MutationOpId>(MUTATION_OPS, 'mutation op');

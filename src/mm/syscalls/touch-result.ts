/**
 * A touch's outcome as one number, so it travels like any syscall result (worker replies,
 * activity rings, batch results): >= 0 is `faults * 2 + path` (path 1: the last fault took the
 * mmap_lock path, 0: the per-VMA lock path or no fault); < 0 is `-(EFAULT + 256 * reason)`, the
 * reason why the access was refused (SIGSEGV or SIGBUS, both answered EFAULT).
 */
import { EFAULT, ENOMEM } from '../errno.js';

export const PATH_VMA_LOCK = 0;
export const PATH_MMAP_LOCK = 1;
export const FAULT_PATHS = ['vma_lock', 'mmap_lock'] as const;
export type FaultPath = (typeof FAULT_PATHS)[number];

export const REASON_NO_VMA = 1;
export const REASON_NO_WRITE = 2;
export const REASON_NO_ACCESS = 3;
export const REASON_PKEY = 4;
export const REASON_PAST_EOF = 5;
export const REASON_STACK_GAP = 6;

const REASONS: Record<number, string> = {
  [REASON_NO_VMA]: 'no VMA at the address (SIGSEGV)',
  [REASON_NO_WRITE]: 'write to a VMA without PROT_WRITE (SIGSEGV)',
  [REASON_NO_ACCESS]: 'access to a PROT_NONE VMA (SIGSEGV)',
  [REASON_PKEY]: 'read of an execute-only (protection key) VMA (SIGSEGV)',
  [REASON_PAST_EOF]: 'past the end of the mapped object (SIGBUS)',
  [REASON_STACK_GAP]:
    'below the stack, but growing it would break the stack guard gap or limit (SIGSEGV)',
};

export function touchOk(faults: number, path: number): number {
  return faults * 2 + (faults > 0 ? path : 0);
}

export function touchRefused(reason: number): number {
  return -(EFAULT + 256 * reason);
}

/** The errno of a touch result < 0 (EFAULT for a refused access, else the raw errno). */
export function touchErrno(result: number): number {
  const v = -result;
  return v > 255 ? v & 255 : v;
}

/** The reason text of a touch result < 0 ('' when none). */
export function touchReason(result: number): string {
  const v = -result;
  if (v === ENOMEM) return 'no memory for the page state (--max-memory; VM_FAULT_OOM)';
  return REASONS[v >> 8] ?? '';
}

export function touchFaults(result: number): number {
  return Math.floor(result / 2);
}

/** The path of the last fault, or null when nothing faulted. */
export function touchPath(result: number): FaultPath | null {
  return touchFaults(result) === 0 ? null : FAULT_PATHS[result & 1];
}

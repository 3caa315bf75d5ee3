/**
 * The rule that puts the memory budget in front of every shared table (issue 11: no client may
 * exhaust a table the others need while the budget still has room).
 *
 * A shared table (anon names, the file table's entries and path heap, the page-state records) has
 * a capacity fixed when the service starts: its handles and offsets have a width, and its storage
 * is one SharedArrayBuffer read through fixed-length typed-array views (at most 2^32 elements
 * each in Node 20; a growable buffer's length-tracking views made every read ~5-10x slower, see
 * the page pool). Each table is charged to `--max-memory` as its high-water mark moves, at
 * `chargePerEntry` bytes an entry:
 *
 *   charge = max(entry bytes, (maxMemory + one page) / capacity)
 *
 * so `capacity * charge >= maxMemory + PAGE_BYTES` (the page absorbs the rounding of a table's
 * running total to whole pages, and a fraction of a byte is fine: the total is what is rounded):
 * the budget refuses the charge of the table's last entry whatever else is charged, and a
 * client meets ENOMEM from the budget, as Linux's kmalloc'd anon_vma_name / dentries would, never
 * from a full table. Up to `capacity * entry bytes` of budget the charge is the honest size (the
 * tables are reserved that large, address space only: pages are committed as used); beyond it an
 * entry is charged more than it takes, in proportion to the budget.
 *
 * Why not grow the tables instead: a table that may grow needs a growable buffer (slow views) or
 * chunks handed to every thread after start; and the widths (a VMA's anon-name handle keeps
 * generation bits for the lockless readers, file heap offsets are Int32) would still bound them.
 */

import { PAGE_BYTES } from './arena-layout.js';

/**
 * Bytes (maybe fractional) charged to the budget per entry of a table of `capacity` usable
 * entries of `entryBytes` each; `entryBytes` without a budget (nothing to be first to run out).
 */
export function chargePerEntry(
  entryBytes: number,
  capacity: number,
  maxMemory: number | undefined,
): number {
  if (maxMemory === undefined || !Number.isFinite(maxMemory)) return entryBytes;
  return Math.max(entryBytes, (maxMemory + PAGE_BYTES) / capacity);
}

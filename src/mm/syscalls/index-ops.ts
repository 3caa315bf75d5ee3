/**
 * Every change the syscalls make to an mm's VMA index goes through here, so that the top-down
 * gap search can remember what it learnt between calls.
 *
 * The kernel's maple tree keeps the largest gap of every subtree and finds a gap in O(log n);
 * our index (vma-index.ts) has no gap sizes, so unmappedAreaTopdown() walks VMAs from mmap_base
 * down. That walk is remembered as a fact: "no gap of at least `len` bytes lies in
 * [floor, high)" (`floor` is the start of a VMA, or the top of the gap the walk found). Facts
 * only break when free space appears, and only `erase` creates free space (stores fill gaps,
 * merges and splits keep the covered range as it is), so an erase reaching above `floor` drops
 * the fact, and the next walk resumes at `floor` otherwise.
 *
 * The memo is per thread (a WeakMap on this thread's MmStruct view). Another thread changing the
 * mm publishes a new index root, which does not match the root recorded after this thread's own
 * last change, and the memo is dropped.
 *
 * They also keep mm->total_vm (MmStruct.totalVm, pages) equal to the pages the index covers:
 * vm_stat_account() is called by every kernel path that grows or shrinks the mapped area, and
 * here every such change is an index store or erase, so counting what each change overwrote or
 * erased (the bytes of [start, end) already mapped, which the index's rebuild sees anyway:
 * VmaIndex.coveredBytes) keeps it exact whatever the path. total_vm must be current
 * when an unmap raises hiwater_vm (vma-munmap.ts).
 */
import type { MmStruct } from '../mm-struct.js';
import { PAGE_SIZE } from '../vm-flags.js';

class GapMemo {
  /** Index root after this thread's last change (the memo is valid only while it is current). */
  root = -1;
  /** The fact: no gap >= len in [floor, high). valid = false when there is none. */
  valid = false;
  high = 0;
  floor = 0;
  len = 0;
}

const memos = new WeakMap<MmStruct, GapMemo>();

function memoOf(mm: MmStruct): GapMemo {
  let m = memos.get(mm);
  if (m === undefined) {
    m = new GapMemo();
    memos.set(mm, m);
  }
  return m;
}

/** Before a change: a memo made stale by another thread's change is dropped. */
function sync(m: GapMemo, mm: MmStruct): void {
  if (m.root !== mm.index.writerRoot()) m.valid = false;
}

/**
 * Map [start, end) to `id` in the index (overwriting), keeping the gap memo and total_vm
 * current.
 */
export function indexStore(mm: MmStruct, start: number, end: number, id: number): void {
  const m = memoOf(mm);
  sync(m, mm);
  mm.index.store(start, end, id);
  mm.totalVm += (end - start - mm.index.coveredBytes) / PAGE_SIZE;
  m.root = mm.index.writerRoot();
}

/** Remove [start, end) from the index; free space above the memo's floor drops the memo. */
export function indexErase(mm: MmStruct, start: number, end: number): void {
  const m = memoOf(mm);
  sync(m, mm);
  mm.index.erase(start, end);
  mm.totalVm -= mm.index.coveredBytes / PAGE_SIZE;
  if (m.valid && end > m.floor && start < m.high) m.valid = false;
  m.root = mm.index.writerRoot();
}

/**
 * Map [start, mid) to `id` and remove [mid, end) in one index change (VmaIndex.storeErase),
 * keeping total_vm and the gap memo as indexStore then indexErase would.
 */
export function indexStoreErase(
  mm: MmStruct,
  start: number,
  mid: number,
  end: number,
  id: number,
): void {
  const m = memoOf(mm);
  sync(m, mm);
  mm.index.storeErase(start, mid, end, id);
  mm.totalVm += (mid - start - mm.index.coveredBytes) / PAGE_SIZE;
  if (m.valid && end > m.floor && mid < m.high) m.valid = false;
  m.root = mm.index.writerRoot();
}

/**
 * Where a top-down search for `len` bytes below `high` may start: `high`, or a lower floor the
 * memo proves nothing above fits.
 */
export function topdownSearchStart(mm: MmStruct, len: number, high: number): number {
  const m = memoOf(mm);
  sync(m, mm);
  if (m.valid && m.high === high && len >= m.len && m.floor < high) return m.floor;
  return high;
}

/** Record that a top-down search for `len` below `high` found nothing fitting in [floor, high). */
export function recordTopdownFloor(mm: MmStruct, len: number, high: number, floor: number): void {
  const m = memoOf(mm);
  m.valid = true;
  m.high = high;
  m.floor = floor;
  m.len = len;
  m.root = mm.index.writerRoot();
}

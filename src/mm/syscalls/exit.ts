/**
 * exit_mmap() (mm/mmap.c, Linux 6.18): tear down a whole address space when its last user is
 * gone. Every VMA is removed from the index, detached, closed (special mappings switch to the
 * dummy ops) and freed (its anon name and file references dropped now, the record after a grace
 * period); the mm's exe file reference is dropped too.
 */
import type { MmStruct } from '../mm-struct.js';
import { pagesExit } from '../pages/page-hooks.js';
import { indexErase } from './index-ops.js';
import { vmaMarkDetached, vmaStartWrite } from './vma-lock-hooks.js';
import { vmaClose } from './vma-munmap.js';

/** Scratch list of the VMAs being torn down (one per thread). */
const ids: number[] = [];

/** Release every mapping of `mm`. The mm stays usable (empty) afterwards. */
export function exitMm(mm: MmStruct): void {
  ids.length = 0;
  for (let vma = mm.findVma(0); vma !== 0; vma = mm.findVma(mm.vmas.end(vma))) ids.push(vma);
  for (const id of ids) vmaStartWrite(mm, id);
  if (ids.length > 0) indexErase(mm, 0, 2 ** 64);
  // unmap_vmas + free_pgtables before remove_vma's fput: the page tables still point at the
  // files' page objects, which the last fput frees.
  pagesExit(mm);
  for (const id of ids) {
    vmaMarkDetached(mm, id);
    vmaClose(mm, id);
    mm.retireVma(id);
  }
  mm.mapCount = 0;
  mm.setExeFile(0);
  ids.length = 0;
}

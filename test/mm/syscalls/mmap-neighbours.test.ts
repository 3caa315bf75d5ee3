// The neighbours mmap_region() merges a new mapping with: taken from the gap the top-down search
// found (unmapped-area.ts FoundGap) when the mapping lies in it, else looked up; and, over
// existing VMAs, the VMA after the gathered range. Also munmap of a VMA's tail, whose split and
// erase are one index change (vma-munmap.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENOMEM } from '../../../src/mm/errno.js';
import type { IndexNodes } from '../../../src/mm/index-nodes.js';
import { mmap, munmap } from '../../../src/mm/syscalls/index.js';
import { AREA_ANON, foundGap, getUnmappedArea } from '../../../src/mm/syscalls/unmapped-area.js';
import { IndexFullError } from '../../../src/mm/vma-index.js';
import { layout, MMAP_BASE, newMm, PAGE as P, SANDBOX as S } from './helpers.js';

const ANON = 0x22;
const FIXED = 0x10;
const RW = 3;

/** Takes every free index node of `mm` (retired ones reclaimed first); give them back with freeNode. */
function takeEveryIndexNode(mm: ReturnType<typeof newMm>): { nodes: IndexNodes; taken: number[] } {
  mm.reclaim();
  const nodes = (mm.index as unknown as { nodes: IndexNodes }).nodes;
  const taken: number[] = [];
  assert.throws(() => {
    for (;;) taken.push(nodes.allocNode());
  }, IndexFullError);
  return { nodes, taken };
}

test('a mapping the search puts into a one-page hole merges with the VMAs on both sides', () => {
  const mm = newMm();
  assert.equal(mmap(mm, 0, 3 * P, RW, ANON), MMAP_BASE - 3 * P);
  assert.equal(munmap(mm, MMAP_BASE - 2 * P, P), 0);
  assert.deepEqual(layout(mm, MMAP_BASE - 3 * P), ['0-1000 rw-p ac', '2000-3000 rw-p ac']);
  // The search walks down past the upper piece and finds the hole between the two.
  assert.equal(mmap(mm, 0, P, RW, ANON), MMAP_BASE - 2 * P);
  assert.deepEqual(layout(mm, MMAP_BASE - 3 * P), ['0-3000 rw-p ac']);
  assert.equal(mm.totalVm, 3);
});

test('a mapping in a found gap merges with the VMA below only, or the one above only', () => {
  const mm = newMm();
  assert.equal(mmap(mm, 0, 3 * P, RW, ANON), MMAP_BASE - 3 * P);
  assert.equal(munmap(mm, MMAP_BASE - 2 * P, P), 0);
  assert.equal(mmap(mm, MMAP_BASE - P, P, 1, ANON | FIXED), MMAP_BASE - P); // upper: r--
  assert.equal(mmap(mm, 0, P, RW, ANON), MMAP_BASE - 2 * P);
  assert.deepEqual(layout(mm, MMAP_BASE - 3 * P), ['0-2000 rw-p ac', '2000-3000 r--p']);
  assert.equal(munmap(mm, MMAP_BASE - 2 * P, P), 0);
  assert.equal(mmap(mm, 0, P, 1, ANON), MMAP_BASE - 2 * P);
  assert.deepEqual(layout(mm, MMAP_BASE - 3 * P), ['0-1000 rw-p ac', '1000-3000 r--p']);
});

test('a found gap holds only for ranges inside it and only until the index changes', () => {
  const mm = newMm();
  assert.equal(mmap(mm, 0, P, RW, ANON), MMAP_BASE - P);
  assert.equal(mmap(mm, 0, P, 1, ANON), MMAP_BASE - 2 * P);
  // That search found the gap below the first mapping; storing the second changed the index.
  assert.equal(foundGap.prev, 0);
  assert.equal(mm.vmas.start(foundGap.next), MMAP_BASE - P);
  assert.ok(!foundGap.holds(mm, MMAP_BASE - 2 * P, MMAP_BASE - P), 'the index changed since');
  // A search alone changes nothing: its gap holds inside [0, start of the r-- VMA).
  assert.equal(getUnmappedArea(mm, AREA_ANON, 0, P, 0, ANON), MMAP_BASE - 3 * P);
  assert.equal(foundGap.next, mm.findVma(MMAP_BASE - 2 * P));
  assert.ok(foundGap.holds(mm, MMAP_BASE - 3 * P, MMAP_BASE - 2 * P));
  assert.ok(foundGap.holds(mm, 0x10000, 0x20000));
  assert.ok(!foundGap.holds(mm, MMAP_BASE - 3 * P, MMAP_BASE - P), 'reaches into next');
  assert.equal(munmap(mm, MMAP_BASE - P, P), 0);
  assert.ok(!foundGap.holds(mm, MMAP_BASE - 3 * P, MMAP_BASE - 2 * P), 'after an unmap');
});

test('MAP_FIXED over several VMAs ending at a VMA end merges with the VMA after the range', () => {
  const mm = newMm();
  assert.equal(mmap(mm, S, P, 1, ANON | FIXED), S);
  assert.equal(mmap(mm, S + P, P, 5, ANON | FIXED), S + P);
  assert.equal(mmap(mm, S + 2 * P, P, RW, ANON | FIXED), S + 2 * P);
  assert.deepEqual(layout(mm), ['0-1000 r--p', '1000-2000 r-xp', '2000-3000 rw-p ac']);
  // [S, S + 2P) replaces exactly the first two VMAs; the rw one after them absorbs the range.
  assert.equal(mmap(mm, S, 2 * P, RW, ANON | FIXED), S);
  assert.deepEqual(layout(mm), ['0-3000 rw-p ac']);
  assert.equal(mm.totalVm, 3);
  // munmap over two whole VMAs, the range ending exactly at the second one's end.
  assert.equal(mmap(mm, S + 4 * P, P, 1, ANON | FIXED), S + 4 * P);
  assert.equal(mmap(mm, S + 5 * P, P, 1, ANON | FIXED), S + 5 * P);
  assert.equal(munmap(mm, S + 2 * P, 4 * P), 0);
  assert.deepEqual(layout(mm), ['0-2000 rw-p ac']);
  assert.equal(mm.totalVm, 2);
});

test("munmap of a VMA's tail is one index change; out of index nodes it fails, changing nothing", () => {
  const mm = newMm();
  assert.equal(mmap(mm, S, 4 * P, RW, ANON | FIXED), S);
  const retiredBefore = mm.deferred.retiredTotal;
  assert.equal(munmap(mm, S + 3 * P, P), 0);
  assert.deepEqual(layout(mm), ['0-3000 rw-p ac']);
  // One path copy (a one-leaf tree: one node) and the VMA record: not a store and an erase.
  assert.equal(mm.deferred.retiredTotal - retiredBefore, 2);
  assert.equal(mm.totalVm, 3);
  // Take every free index node, as a mutation would: the split cannot be published.
  const { nodes, taken } = takeEveryIndexNode(mm);
  const count = mm.mapCount;
  assert.equal(munmap(mm, S + P, 2 * P), -ENOMEM);
  assert.deepEqual(layout(mm), ['0-3000 rw-p ac']);
  assert.equal(mm.mapCount, count);
  assert.equal(mm.totalVm, 3);
  for (const n of taken) nodes.freeNode(n);
  assert.equal(munmap(mm, S + P, 2 * P), 0);
  assert.deepEqual(layout(mm), ['0-1000 rw-p ac']);
  assert.equal(mm.totalVm, 1);
  mm.index.check();
});

test('munmap of whole VMAs out of index nodes fails with ENOMEM, the VMAs still mapped', () => {
  const mm = newMm();
  assert.equal(mmap(mm, S, 2 * P, RW, ANON | FIXED), S);
  assert.equal(mmap(mm, S + 3 * P, P, 1, ANON | FIXED), S + 3 * P);
  assert.equal(mmap(mm, S + 6 * P, P, RW, ANON | FIXED), S + 6 * P); // stays: the tree is not emptied
  const { nodes, taken } = takeEveryIndexNode(mm);
  const count = mm.mapCount;
  // [S, S + 4P) covers both VMAs whole: no split, only the erase, which needs a node.
  assert.equal(munmap(mm, S, 4 * P), -ENOMEM);
  assert.deepEqual(layout(mm), ['0-2000 rw-p ac', '3000-4000 r--p', '6000-7000 rw-p ac']);
  assert.equal(mm.mapCount, count);
  assert.equal(mm.totalVm, 4);
  for (const n of taken) nodes.freeNode(n);
  assert.equal(munmap(mm, S, 4 * P), 0);
  assert.deepEqual(layout(mm), ['6000-7000 rw-p ac']);
  assert.equal(mm.totalVm, 1);
  mm.index.check();
});

// Placement of mappings without MAP_FIXED (get_unmapped_area, x86-64 top-down). Expected
// addresses follow the kernel's rules; the THP case reproduces what the reference host did for
// mmap(NULL, 2 MiB) below a 4 KiB mapping (placed at the 2 MiB boundary below the gap's top).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MmStruct } from '../../../src/mm/mm-struct.js';
import { mmap, mremap, munmap } from '../../../src/mm/syscalls/index.js';
import { layout, MMAP_BASE, newMm, PAGE as P, SANDBOX as S } from './helpers.js';

const PMD = 0x200000;
const GUARD = 256 * P;
const ANON = 0x22;

test('top-down placement starts right below mmap_base and packs downwards', () => {
  const mm = newMm();
  assert.equal(mmap(mm, 0, P, 3, ANON), MMAP_BASE - P);
  assert.equal(mmap(mm, 0, 2 * P, 1, ANON), MMAP_BASE - 3 * P);
  // The rw mapping below the r-- one does not merge; the next rw one lands below it.
  assert.equal(mmap(mm, 0, P, 1, ANON), MMAP_BASE - 4 * P);
  assert.deepEqual(layout(mm, MMAP_BASE - 4 * P), ['0-3000 r--p', '3000-4000 rw-p ac']);
});

test('a free hint is honoured; an occupied one falls back to the top-down search', () => {
  const mm = newMm();
  assert.equal(mmap(mm, S, P, 3, ANON), S);
  assert.equal(mmap(mm, S, P, 3, ANON), MMAP_BASE - P);
  // A hint inside a page is rounded down; a hint below mmap_min_addr moves up to it.
  assert.equal(mmap(mm, S + 0x10123, P, 3, ANON), S + 0x10000);
  assert.equal(mmap(mm, 0x800, P, 3, ANON), MMAP_BASE - 2 * P);
  assert.equal(mmap(mm, 0x1000, P, 3, ANON), 0x1000);
});

test('anonymous PMD-multiple lengths are THP aligned, others are not', () => {
  const mm = newMm();
  assert.equal(mmap(mm, 0, P, 3, ANON), MMAP_BASE - P);
  // Search for len + 2 MiB below MMAP_BASE - P, then round up to a 2 MiB boundary.
  const gapEnd = MMAP_BASE - P;
  const padded = gapEnd - 2 * PMD;
  const expected = padded + ((PMD - (padded % PMD)) % PMD || PMD);
  const a = mmap(mm, 0, PMD, 3, ANON);
  assert.equal(a, expected);
  assert.equal(a % PMD, 0);
  // 2 MiB + 4 KiB is not a PMD multiple: plain placement right below the previous one.
  assert.equal(mmap(mm, 0, PMD + P, 3, ANON), a - PMD - P);
  // Shared anonymous memory uses shmem's allocator (shmem_enabled=never): no alignment.
  const b = mmap(mm, 0, PMD, 3, 0x21);
  assert.equal(b, a - PMD - P - PMD);
});

test('the search keeps stack_guard_gap below a VM_GROWSDOWN VMA', () => {
  const mm = newMm();
  const stack = MMAP_BASE - 0x10000;
  assert.equal(mmap(mm, stack, 0x10000, 3, 0x132), stack); // MAP_GROWSDOWN|MAP_FIXED
  assert.equal(mmap(mm, 0, P, 3, ANON), stack - GUARD - P);
  // A hint inside the guard gap is refused too.
  assert.equal(mmap(mm, stack - 2 * P, P, 3, ANON), stack - GUARD - 2 * P);
});

test('mremap MAYMOVE picks a new place top-down when it cannot grow in place', () => {
  const mm = newMm();
  mmap(mm, S, P, 3, 0x32);
  mmap(mm, S + P, P, 1, 0x32);
  const r = mremap(mm, S, P, 3 * P, 1, 0);
  assert.equal(r, MMAP_BASE - 3 * P);
  assert.deepEqual(layout(mm, S), [
    '1000-2000 r--p',
    `${(r - S).toString(16)}-${(MMAP_BASE - S).toString(16)} rw-p ac`,
  ]);
});

test('space freed above an earlier search is found again (the gap memo is dropped)', () => {
  const mm = newMm();
  const a = mmap(mm, 0, P, 3, ANON);
  const b = mmap(mm, 0, P, 1, ANON);
  const c = mmap(mm, 0, P, 3, ANON);
  assert.deepEqual([a, b, c], [MMAP_BASE - P, MMAP_BASE - 2 * P, MMAP_BASE - 3 * P]);
  // The search for c proved nothing fits above it; unmapping b frees a page above that floor.
  assert.equal(munmap(mm, b, P), 0);
  assert.equal(mmap(mm, 0, P, 5, ANON), b);
  // Unmapping below the floor keeps the memo: the next search still finds the right place.
  assert.equal(munmap(mm, c, P), 0);
  assert.equal(mmap(mm, 0, P, 4, ANON), c);
});

test('a change through another view of the same arena (another thread) drops the memo', () => {
  const mm = newMm();
  const other = MmStruct.attach(mm.buffer, mm.globals);
  const a = mmap(mm, 0, P, 3, ANON);
  const b = mmap(mm, 0, P, 1, ANON);
  assert.equal(b, a - P);
  assert.equal(munmap(other, a, P), 0);
  assert.equal(mmap(mm, 0, P, 5, ANON), a);
});

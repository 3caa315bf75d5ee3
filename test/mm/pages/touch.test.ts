// Page state and faults on the engine (single-threaded): what touched-memory.md and the host
// showed for Linux 6.18 (reads, writes, fork sharing, mprotect/munmap/mremap, EFAULT reasons,
// stack growth, anon_vma merge consequences).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MmStruct } from '../../../src/mm/mm-struct.js';
import {
  gatherVmaPages,
  mmRss,
  newPageCounts,
  type PageCounts,
  PSS_SHIFT,
} from '../../../src/mm/pages/page-counts.js';
import { exitMm, forkMm, mmap, mprotect, mremap, munmap } from '../../../src/mm/syscalls/index.js';
import { touch } from '../../../src/mm/syscalls/touch.js';
import {
  touchErrno,
  touchFaults,
  touchPath,
  touchReason,
} from '../../../src/mm/syscalls/touch-result.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_GROWSDOWN,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from '../../../src/mm/vm-flags.js';
import { newMm, PAGE, SANDBOX } from '../syscalls/helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
const kB = (n: number) => n * 1024;

function counts(mm: MmStruct, addr: number): PageCounts {
  const acc = newPageCounts();
  gatherVmaPages(mm, mm.vmaLookup(addr), acc);
  return acc;
}
const pssKb = (c: PageCounts) => Math.floor(c.pss / 2 ** PSS_SHIFT / 1024);

function faults(mm: MmStruct, addr: number, len: number, write: boolean): number {
  const r = touch(mm, addr, len, write, null);
  assert.ok(r >= 0, `touch refused: ${touchReason(r)}`);
  return touchFaults(r);
}

test('private anonymous: a write fault per page, Private_Dirty and Anonymous; zero page reads count nowhere', () => {
  const mm = newMm();
  mmap(mm, SANDBOX, 8 * PAGE, RW, ANON);
  assert.equal(faults(mm, SANDBOX, 4 * PAGE, false), 4);
  assert.equal(counts(mm, SANDBOX).resident, 0, 'the zero page is not in Rss');
  assert.equal(faults(mm, SANDBOX, 8 * PAGE, true), 8, 'copy of each zero page, fresh pages');
  const c = counts(mm, SANDBOX);
  assert.equal(c.resident, kB(32));
  assert.equal(c.privateDirty, kB(32));
  assert.equal(c.anonymous, kB(32));
  assert.equal(c.referenced, kB(32));
  assert.equal(pssKb(c), 32);
  assert.equal(faults(mm, SANDBOX, 8 * PAGE, true), 0, 'written pages are writable');
  assert.deepEqual(mmRss(mm).anon, kB(32));
});

test('without a zero page a read allocates: dirty in a writable VMA, clean in a read-only one', () => {
  const mm = newMm(1024, undefined, { noZeroPage: true });
  mmap(mm, SANDBOX, 4 * PAGE, PROT_READ, ANON);
  mmap(mm, SANDBOX + 8 * PAGE, 4 * PAGE, RW, ANON);
  assert.equal(faults(mm, SANDBOX, 4 * PAGE, false), 4);
  assert.equal(counts(mm, SANDBOX).privateClean, kB(16));
  assert.equal(faults(mm, SANDBOX + 8 * PAGE, 2 * PAGE, false), 2);
  assert.equal(
    faults(mm, SANDBOX + 8 * PAGE, 4 * PAGE, true),
    2,
    'host: rw read 2 then write 4 = 2 faults',
  );
  assert.equal(counts(mm, SANDBOX + 8 * PAGE).privateDirty, kB(16));
});

test('fork shares written pages copy-on-write: Pss halves, the child starts unreferenced, a write breaks one page', () => {
  const mm = newMm();
  mmap(mm, SANDBOX, 4 * PAGE, RW, ANON);
  faults(mm, SANDBOX, 4 * PAGE, true);
  const child = forkMm(mm);
  let c = counts(child, SANDBOX);
  assert.equal(c.sharedDirty, kB(16));
  assert.equal(pssKb(c), 8);
  assert.equal(c.referenced, 0);
  assert.equal(faults(child, SANDBOX, PAGE, true), 1, 'COW break');
  assert.equal(faults(child, SANDBOX, PAGE, true), 0);
  c = counts(child, SANDBOX);
  assert.deepEqual(
    [c.sharedDirty, c.privateDirty, pssKb(c), c.referenced],
    [kB(12), kB(4), 10, kB(4)],
  );
  c = counts(mm, SANDBOX);
  assert.deepEqual(
    [c.sharedDirty, c.privateDirty, pssKb(c), c.referenced],
    [kB(12), kB(4), 10, kB(16)],
  );
  exitMm(child);
  c = counts(mm, SANDBOX);
  assert.deepEqual([c.privateDirty, pssKb(c)], [kB(16), 16], 'private again after the child exits');
  assert.equal(
    faults(mm, SANDBOX + PAGE, PAGE, true),
    1,
    'still write-protected: one fault (reuse)',
  );
});

test('pages stay through mprotect splits and merges, go with munmap, move with mremap', () => {
  const mm = newMm();
  mmap(mm, SANDBOX, 8 * PAGE, RW, ANON);
  faults(mm, SANDBOX, 8 * PAGE, true);
  assert.equal(mprotect(mm, SANDBOX + 2 * PAGE, 2 * PAGE, PROT_NONE), 0);
  assert.equal(counts(mm, SANDBOX + 2 * PAGE).resident, kB(8), '--- keeps them');
  assert.equal(counts(mm, SANDBOX).resident, kB(8));
  assert.equal(touchErrno(touch(mm, SANDBOX + 2 * PAGE, 1, false, null)), 14);
  assert.equal(mprotect(mm, SANDBOX + 2 * PAGE, 2 * PAGE, RW), 0);
  assert.equal(counts(mm, SANDBOX).resident, kB(32), 'merged back');
  assert.equal(faults(mm, SANDBOX, 8 * PAGE, true), 0, 'exclusive anonymous PTEs writable again');
  assert.equal(munmap(mm, SANDBOX + 6 * PAGE, 2 * PAGE), 0);
  assert.equal(counts(mm, SANDBOX).resident, kB(24));
  const to = SANDBOX + 64 * PAGE;
  assert.equal(mremap(mm, SANDBOX, 6 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to), to);
  assert.equal(counts(mm, to).resident, kB(16), 'a shrinking move keeps the first pages');
  assert.equal(mm.vmaLookup(SANDBOX), 0);
  assert.equal(mmRss(mm).anon, kB(16));
  assert.ok(mmRss(mm).hiwaterRss >= kB(32));
  exitMm(mm);
  assert.equal(mmRss(mm).anon, 0);
});

test('EFAULT reasons: no VMA, write without w, PROT_NONE; nothing changes; length 0 touches nothing', () => {
  const mm = newMm();
  mmap(mm, SANDBOX, 2 * PAGE, PROT_READ, ANON);
  mmap(mm, SANDBOX + 4 * PAGE, 2 * PAGE, PROT_NONE, ANON);
  const hole = touch(mm, SANDBOX, 4 * PAGE, false, null);
  assert.equal(touchErrno(hole), 14);
  assert.match(touchReason(hole), /no VMA/);
  assert.equal(counts(mm, SANDBOX).resident + mmRss(mm).anon, 0, 'nothing touched before the hole');
  assert.match(touchReason(touch(mm, SANDBOX, PAGE, true, null)), /without PROT_WRITE/);
  assert.match(touchReason(touch(mm, SANDBOX + 4 * PAGE, PAGE, false, null)), /PROT_NONE/);
  assert.equal(touchFaults(touch(mm, SANDBOX + 2 * PAGE, 0, true, null)), 0);
  assert.equal(touchPath(touch(mm, SANDBOX, 0, false, null)), null);
});

test('a touch in the gap below a growsdown VMA grows it; the guard gap refuses', () => {
  const mm = newMm();
  const top = SANDBOX + 1024 * PAGE;
  mmap(mm, top, 4 * PAGE, RW, ANON | MAP_GROWSDOWN);
  assert.equal(faults(mm, top - 16 * PAGE, PAGE, true), 1);
  assert.equal(mm.vmas.start(mm.vmaLookup(top)), top - 16 * PAGE);
  mmap(mm, top - 300 * PAGE, PAGE, RW, ANON);
  const r = touch(mm, top - 100 * PAGE, PAGE, true, null);
  assert.equal(touchErrno(r), 14);
  assert.equal(mm.vmas.start(mm.vmaLookup(top)), top - 16 * PAGE, 'unchanged');
});

test('the first write fault gives an anon_vma: a written VMA no longer merges with an unwritten neighbour', () => {
  const mm = newMm();
  mmap(mm, SANDBOX, 2 * PAGE, RW, ANON);
  faults(mm, SANDBOX, PAGE, true);
  mmap(mm, SANDBOX + 2 * PAGE, 2 * PAGE, PROT_READ, ANON);
  faults(mm, SANDBOX + 2 * PAGE, PAGE, false); // a read fault gives none
  mmap(mm, SANDBOX + 6 * PAGE, 2 * PAGE, RW, ANON);
  faults(mm, SANDBOX + 6 * PAGE, PAGE, true);
  // Fill the hole with a fresh mapping: merges with one side only (two anon_vmas apart).
  mmap(mm, SANDBOX + 4 * PAGE, 2 * PAGE, RW, ANON);
  const a = mm.vmaLookup(SANDBOX + 4 * PAGE);
  assert.ok(mm.vmas.end(a) - mm.vmas.start(a) < 6 * PAGE, 'no three-way merge');
  // mprotect the read-faulted middle to rw: it merges with its written neighbour (it has none).
  assert.equal(mprotect(mm, SANDBOX + 2 * PAGE, 2 * PAGE, RW), 0);
  assert.equal(mm.vmaLookup(SANDBOX), mm.vmaLookup(SANDBOX + 2 * PAGE));
});

test('shared anonymous memory: read faults allocate clean pages, writes need no second fault, past the end is SIGBUS', () => {
  const mm = newMm();
  mmap(mm, SANDBOX, 4 * PAGE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
  assert.equal(faults(mm, SANDBOX, PAGE, false), 1);
  let c = counts(mm, SANDBOX);
  assert.deepEqual([c.resident, c.privateClean, c.anonymous], [kB(4), kB(4), 0]);
  assert.equal(faults(mm, SANDBOX, PAGE, true), 0);
  c = counts(mm, SANDBOX);
  assert.equal(c.privateDirty, kB(4));
  assert.equal(mmRss(mm).shmem, kB(4));
  assert.equal(mremap(mm, SANDBOX, 4 * PAGE, 8 * PAGE, 0, 0), SANDBOX);
  const r = touch(mm, SANDBOX + 5 * PAGE, PAGE, false, null);
  assert.match(touchReason(r), /past the end/);
});

test('faults take the per-VMA lock; a fault in the stack gap (no VMA found) falls back to mmap_lock', () => {
  const mm = newMm();
  const top = SANDBOX + 1024 * PAGE;
  mmap(mm, top, 4 * PAGE, RW, ANON | MAP_GROWSDOWN);
  const paths: number[] = [];
  const obs = { fault: (path: number) => paths.push(path) };
  assert.equal(touchPath(touch(mm, top, PAGE, true, obs)), 'vma_lock');
  assert.equal(touchPath(touch(mm, top - PAGE, PAGE, true, obs)), 'mmap_lock');
  assert.deepEqual(paths, [0, 1]);
});

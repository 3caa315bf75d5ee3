// Merge and split scenarios. Each expected layout follows from the kernel's rules (mm/vma.c:
// equal flags, same file, contiguous pgoff, equal anon names; VM_ACCOUNT per mprotect_fixup) and
// was observed on the reference host (Linux 6.18.44, /proc/self/smaps) where the host can show it
// (anon names cannot be: the host lacks CONFIG_ANON_VMA_NAME).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  brk,
  exitMm,
  forkMm,
  mmap,
  mprotect,
  mremap,
  munmap,
  populateVma,
  prctlSetVmaAnonName,
} from '../../../src/mm/syscalls/index.js';
import { VM_DONTCOPY, VM_LOCKED } from '../../../src/mm/vm-flags.js';
import { layout, MMAP_BASE, newMm, PAGE as P, SANDBOX as S } from './helpers.js';

const RW = 3;
const R = 1;
const PRIVATE_ANON_FIXED = 0x32;
const SHARED_ANON_FIXED = 0x31;
const PRIVATE_FIXED = 0x12;
const MAYMOVE = 1;
const FIXED = 2;
const DONTUNMAP = 4;

test('mprotect of a middle page splits in three and mprotect back re-merges', () => {
  const mm = newMm();
  assert.equal(mmap(mm, S, 3 * P, RW, PRIVATE_ANON_FIXED), S);
  assert.deepEqual(layout(mm), ['0-3000 rw-p ac']);
  assert.equal(mprotect(mm, S + P, P, R), 0);
  // Read-only never-faulted anonymous memory gives its commitment back (no VM_ACCOUNT).
  assert.deepEqual(layout(mm), ['0-1000 rw-p ac', '1000-2000 r--p', '2000-3000 rw-p ac']);
  assert.equal(mm.mapCount, 3);
  assert.equal(mprotect(mm, S + P, P, RW), 0);
  assert.deepEqual(layout(mm), ['0-3000 rw-p ac']);
  assert.equal(mm.mapCount, 1);
});

test('mprotect at an edge moves the boundary into the neighbour instead of splitting', () => {
  const mm = newMm();
  mmap(mm, S, 2 * P, R, PRIVATE_ANON_FIXED);
  mmap(mm, S + 2 * P, 2 * P, RW, PRIVATE_ANON_FIXED);
  const first = mm.findVma(S);
  assert.equal(mprotect(mm, S + 2 * P, P, R), 0);
  assert.deepEqual(layout(mm), ['0-3000 r--p', '3000-4000 rw-p ac']);
  // The left VMA grew in place (merge_left keeps prev's record).
  assert.equal(mm.findVma(S), first);
});

test('mprotect over a hole changes the VMAs before the hole, then fails with ENOMEM', () => {
  const mm = newMm();
  mmap(mm, S, 2 * P, RW, PRIVATE_ANON_FIXED);
  mmap(mm, S + 3 * P, P, RW, PRIVATE_ANON_FIXED);
  assert.equal(mprotect(mm, S + P, 3 * P, R), -12);
  assert.deepEqual(layout(mm), ['0-1000 rw-p ac', '1000-2000 r--p', '3000-4000 rw-p ac']);
});

test('adjacent anonymous mappings merge; a different flag or a name keeps them apart', () => {
  const mm = newMm();
  mmap(mm, S, P, RW, PRIVATE_ANON_FIXED);
  mmap(mm, S + P, P, RW, PRIVATE_ANON_FIXED);
  assert.deepEqual(layout(mm), ['0-2000 rw-p ac']);
  mmap(mm, S + 2 * P, P, RW, PRIVATE_ANON_FIXED | 0x4000); // MAP_NORESERVE: no VM_ACCOUNT
  assert.deepEqual(layout(mm), ['0-2000 rw-p ac', '2000-3000 rw-p']);
  assert.equal(prctlSetVmaAnonName(mm, S, 2 * P, 'buf'), 0);
  mmap(mm, S - P, P, RW, PRIVATE_ANON_FIXED);
  assert.deepEqual(layout(mm, S - P), [
    '0-1000 rw-p ac',
    '1000-3000 rw-p ac [buf]',
    '3000-4000 rw-p',
  ]);
});

test('file mappings merge only with the same file and contiguous offsets', () => {
  const mm = newMm();
  const f = mm.files.intern({ path: '/lib/x.so', devMajor: 8, devMinor: 1, inode: 7 });
  const g = mm.files.intern({ path: '/lib/y.so', devMajor: 8, devMinor: 1, inode: 8 });
  const file = (fileId: number, offset: number) => ({ fileId, offset, writable: false });
  mmap(mm, S, P, R, PRIVATE_FIXED, file(f, 0));
  mmap(mm, S + P, P, R, PRIVATE_FIXED, file(f, P));
  mmap(mm, S + 2 * P, P, R, PRIVATE_FIXED, file(f, 5 * P));
  mmap(mm, S + 3 * P, P, R, PRIVATE_FIXED, file(g, 6 * P));
  assert.deepEqual(layout(mm), [
    '0-2000 r--p pg=0 f=/lib/x.so',
    '2000-3000 r--p pg=5 f=/lib/x.so',
    '3000-4000 r--p pg=6 f=/lib/y.so',
  ]);
});

test('shared anonymous mappings never merge: each is a fresh shmem file', () => {
  const mm = newMm();
  mmap(mm, S, P, RW, SHARED_ANON_FIXED);
  mmap(mm, S + P, P, RW, SHARED_ANON_FIXED);
  const a = mm.vmas.file(mm.findVma(S));
  const b = mm.vmas.file(mm.findVma(S + P));
  assert.notEqual(a, b);
  assert.ok(mm.files.isShmem(a) && mm.files.isShmem(b));
  assert.equal(mm.mapCount, 2);
});

test('mmap PROT_NONE over the middle and back re-merges (proc-maps-race split test)', () => {
  const mm = newMm();
  mmap(mm, S, 3 * P, RW, PRIVATE_ANON_FIXED);
  const original = mm.findVma(S);
  mmap(mm, S + P, P, 0, PRIVATE_ANON_FIXED);
  assert.deepEqual(layout(mm), ['0-1000 rw-p ac', '1000-2000 ---p', '2000-3000 rw-p ac']);
  // __split_vma(new_below) gives the lower part a new record; the original one was unmapped.
  const low = mm.findVma(S);
  assert.notEqual(low, original);
  mmap(mm, S + P, P, RW, PRIVATE_ANON_FIXED);
  assert.deepEqual(layout(mm), ['0-3000 rw-p ac']);
  // vma_merge_new_range() expands prev over the new range and next.
  assert.equal(mm.findVma(S), low);
});

test('mremap shrinks and grows in place, merging with the next VMA when it touches', () => {
  const mm = newMm();
  mmap(mm, S, 3 * P, RW, PRIVATE_ANON_FIXED);
  mmap(mm, S + 4 * P, P, RW, PRIVATE_ANON_FIXED);
  assert.equal(mremap(mm, S, 3 * P, P, 0, 0), S);
  assert.deepEqual(layout(mm), ['0-1000 rw-p ac', '4000-5000 rw-p ac']);
  assert.equal(mremap(mm, S, P, 4 * P, 0, 0), S);
  assert.deepEqual(layout(mm), ['0-5000 rw-p ac']);
  // Growing into a mapped page is not possible in place, and without MAYMOVE that is ENOMEM.
  mmap(mm, S + 6 * P, P, R, PRIVATE_ANON_FIXED);
  assert.equal(mremap(mm, S, 5 * P, 7 * P, 0, 0), -12);
});

test('mremap DONTUNMAP leaves the old range mapped; the move merges at the destination', () => {
  const mm = newMm();
  mmap(mm, S, 2 * P, RW, PRIVATE_ANON_FIXED);
  mmap(mm, S + 0x10000, P, RW, PRIVATE_ANON_FIXED);
  const r = mremap(mm, S, 2 * P, 2 * P, MAYMOVE | FIXED | DONTUNMAP, S + 0x10000 + P);
  assert.equal(r, S + 0x10000 + P);
  // A never-faulted anonymous VMA takes pgoff = new address >> 12, so it merges there.
  assert.deepEqual(layout(mm), ['0-2000 rw-p ac', '10000-13000 rw-p ac']);
  assert.equal(mm.vmas.pgoff(mm.findVma(S + 0x10000)), (S + 0x10000) / P);
});

test('mremap FIXED moves every VMA in the range and keeps the gaps (6.17+)', () => {
  const mm = newMm();
  mmap(mm, S, 2 * P, RW, PRIVATE_ANON_FIXED);
  mmap(mm, S + 3 * P, 2 * P, R, PRIVATE_ANON_FIXED);
  assert.equal(mremap(mm, S, 5 * P, 5 * P, MAYMOVE | FIXED, S + 0x40000), S + 0x40000);
  assert.deepEqual(layout(mm), ['40000-42000 rw-p ac', '43000-45000 r--p']);
});

test('brk grows the heap VMA in place and shrinks it; brk(0) reads the break', () => {
  const mm = newMm();
  const heap = S + 0x100000;
  mm.startBrk = heap;
  mm.brk = heap;
  assert.equal(brk(mm, 0), heap);
  assert.equal(brk(mm, heap + 0x1800), heap + 0x1800);
  assert.deepEqual(layout(mm, heap), ['0-2000 rw-p ac']);
  assert.equal(brk(mm, heap + 0x5000), heap + 0x5000);
  assert.deepEqual(layout(mm, heap), ['0-5000 rw-p ac']);
  assert.equal(mm.mapCount, 1);
  assert.equal(brk(mm, heap + 0x1000), heap + 0x1000);
  assert.deepEqual(layout(mm, heap), ['0-1000 rw-p ac']);
  // Growing to less than a page below the next VMA is refused: the break stays.
  mmap(mm, heap + 0x4000, P, R, PRIVATE_ANON_FIXED);
  assert.equal(brk(mm, heap + 0x3800), heap + 0x1000);
  assert.equal(brk(mm, heap + 0x3000), heap + 0x3000);
});

test('anon names: equal contents merge, a different name splits, null clears', () => {
  const mm = newMm();
  mmap(mm, S, 4 * P, RW, PRIVATE_ANON_FIXED);
  assert.equal(prctlSetVmaAnonName(mm, S + P, P, 'a'), 0);
  assert.deepEqual(layout(mm), ['0-1000 rw-p ac', '1000-2000 rw-p ac [a]', '2000-4000 rw-p ac']);
  // A second, separately allocated "a" merges with the first (contents are compared).
  assert.equal(prctlSetVmaAnonName(mm, S + 2 * P, P, 'a'), 0);
  assert.deepEqual(layout(mm), ['0-1000 rw-p ac', '1000-3000 rw-p ac [a]', '3000-4000 rw-p ac']);
  assert.equal(prctlSetVmaAnonName(mm, S, 4 * P, null), 0);
  assert.deepEqual(layout(mm), ['0-4000 rw-p ac']);
  assert.equal(mm.anonNames.live, 0);
});

test('fork copies every VMA but VM_DONTCOPY ones, shares names and drops VM_LOCKED', () => {
  const mm = newMm();
  mmap(mm, S, P, RW, PRIVATE_ANON_FIXED);
  mmap(mm, S + 2 * P, P, R, PRIVATE_ANON_FIXED | 0x2000); // MAP_LOCKED
  mmap(mm, S + 4 * P, P, RW, PRIVATE_ANON_FIXED);
  prctlSetVmaAnonName(mm, S, P, 'n');
  mm.vmas.setFlags(mm.findVma(S + 4 * P), mm.vmas.flags(mm.findVma(S + 4 * P)) | VM_DONTCOPY);
  const child = forkMm(mm);
  assert.deepEqual(layout(child), ['0-1000 rw-p ac [n]', '2000-3000 r--p']);
  const name = mm.vmas.anonName(mm.findVma(S));
  assert.equal(child.vmas.anonName(child.findVma(S)), name);
  assert.equal(mm.anonNames.refcount(name), 2);
  assert.equal(child.vmas.flags(child.findVma(S + 2 * P)) & VM_LOCKED, 0);
  assert.notEqual(mm.vmas.flags(mm.findVma(S + 2 * P)) & VM_LOCKED, 0);
  exitMm(child);
  assert.equal(child.mapCount, 0);
  assert.deepEqual(layout(child), []);
  assert.equal(mm.anonNames.refcount(name), 1);
  assert.equal(munmap(mm, S, 6 * P), 0);
  assert.equal(mm.anonNames.live, 0);
});

test('munmap of the middle splits in two; munmap of nothing succeeds', () => {
  const mm = newMm();
  mmap(mm, S, 3 * P, RW, PRIVATE_ANON_FIXED);
  assert.equal(munmap(mm, S + P, P), 0);
  assert.deepEqual(layout(mm), ['0-1000 rw-p ac', '2000-3000 rw-p ac']);
  assert.equal(munmap(mm, S + 0x100000, P), 0);
  assert.equal(mm.mapCount, 2);
});

test('MAP_FIXED over the middle of a VMA at max_map_count fails with ENOMEM, unchanged', () => {
  const mm = newMm(3);
  mmap(mm, S, 3 * P, RW, PRIVATE_ANON_FIXED);
  mmap(mm, S + 4 * P, P, R, PRIVATE_ANON_FIXED);
  mmap(mm, S + 6 * P, P, R, PRIVATE_ANON_FIXED);
  assert.equal(mm.mapCount, 3);
  assert.equal(mmap(mm, S + P, P, R, PRIVATE_ANON_FIXED), -12);
  assert.deepEqual(layout(mm), ['0-3000 rw-p ac', '4000-5000 r--p', '6000-7000 r--p']);
  // One more VMA is still allowed (the kernel checks map_count > max_map_count).
  assert.equal(mmap(mm, S + 8 * P, P, RW, PRIVATE_ANON_FIXED), S + 8 * P);
  assert.equal(mm.mapCount, 4);
  assert.equal(mmap(mm, S + 10 * P, P, R, PRIVATE_ANON_FIXED), -12);
});

test('MAP_POPULATE memory has an anon_vma: it keeps VM_ACCOUNT and its pgoff when moved', () => {
  // Observed on the host: after mprotect(PROT_READ) the populated middle page still shows
  // "ac"; moved elsewhere, the VMA does not merge with a new anonymous neighbour.
  const mm = newMm();
  assert.equal(mmap(mm, S, 3 * P, RW, PRIVATE_ANON_FIXED | 0x8000), S);
  assert.equal(mprotect(mm, S + P, P, R), 0);
  assert.deepEqual(layout(mm), ['0-1000 rw-p ac', '1000-2000 r--p ac', '2000-3000 rw-p ac']);
  assert.equal(mprotect(mm, S + P, P, RW), 0);
  assert.deepEqual(layout(mm), ['0-3000 rw-p ac']);
  assert.equal(mremap(mm, S, 3 * P, 3 * P, MAYMOVE | FIXED, S + 0x100000), S + 0x100000);
  assert.equal(mmap(mm, S + 0x103000, P, RW, PRIVATE_ANON_FIXED), S + 0x103000);
  assert.deepEqual(layout(mm), ['100000-103000 rw-p ac', '103000-104000 rw-p ac']);
  assert.equal(mm.vmas.pgoff(mm.findVma(S + 0x100000)), S / P);
});

test('in a fork child, an inherited anon_vma keeps new neighbours out (vma_is_fork_child)', () => {
  // Observed on the host: after fork, the child's new mapping next to an inherited populated
  // VMA stays separate, next to an inherited never-written one it merges; splitting and
  // re-merging the populated one works (both parts share its anon_vma).
  const parent = newMm();
  mmap(parent, S, 2 * P, RW, PRIVATE_ANON_FIXED | 0x8000); // MAP_POPULATE
  mmap(parent, S + 0x10000, 2 * P, RW, PRIVATE_ANON_FIXED);
  const child = forkMm(parent);
  assert.equal(mmap(child, S + 2 * P, P, RW, PRIVATE_ANON_FIXED), S + 2 * P);
  assert.equal(mmap(child, S + 0xf000, P, RW, PRIVATE_ANON_FIXED), S + 0xf000);
  assert.equal(mprotect(child, S, P, R), 0);
  assert.equal(mprotect(child, S, P, RW), 0);
  assert.deepEqual(layout(child), ['0-2000 rw-p ac', '2000-3000 rw-p ac', 'f000-12000 rw-p ac']);
  // The parent's own VMAs are not fork children: the same mmap merges there.
  assert.equal(mmap(parent, S + 2 * P, P, RW, PRIVATE_ANON_FIXED), S + 2 * P);
  assert.deepEqual(layout(parent), ['0-3000 rw-p ac', '10000-12000 rw-p ac']);
});

test('separately populated VMAs have different anon_vmas: a range between them merges one side', () => {
  // can_vma_merge_right(): prev and next must share their anon_vma (or one has none).
  const mm = newMm();
  mmap(mm, S, 2 * P, RW, PRIVATE_ANON_FIXED | 0x8000);
  mmap(mm, S + 4 * P, 2 * P, RW, PRIVATE_ANON_FIXED | 0x8000);
  mmap(mm, S + 2 * P, 2 * P, RW, PRIVATE_ANON_FIXED);
  assert.deepEqual(layout(mm), ['0-4000 rw-p ac', '4000-6000 rw-p ac']);
  // One populated VMA with its middle unmapped: both sides share the anon_vma, all three merge.
  mmap(mm, S + 8 * P, 6 * P, RW, PRIVATE_ANON_FIXED | 0x8000);
  munmap(mm, S + 10 * P, 2 * P);
  mmap(mm, S + 10 * P, 2 * P, RW, PRIVATE_ANON_FIXED);
  assert.deepEqual(layout(mm).slice(2), ['8000-e000 rw-p ac']);
});

test('brk in a fork child does not grow an inherited, written [heap] VMA', () => {
  // Observed on the host (differential forkchild scripts): the child's brk() adds a VMA.
  const mm = newMm();
  const heap = S + 0x100000;
  mm.startBrk = heap;
  mm.brk = heap;
  assert.equal(brk(mm, heap + 0x2000), heap + 0x2000);
  populateVma(mm, mm.findVma(heap));
  const child = forkMm(mm);
  assert.equal(brk(child, heap + 0x3000), heap + 0x3000);
  assert.deepEqual(layout(child, heap), ['0-2000 rw-p ac', '2000-3000 rw-p ac']);
  // The parent's heap is not a fork child: it grows in place.
  assert.equal(brk(mm, heap + 0x3000), heap + 0x3000);
  assert.deepEqual(layout(mm, heap), ['0-3000 rw-p ac']);
});

test('fork gives each written VMA its own anon_vma: split siblings no longer re-merge in the child', () => {
  // Observed on the host: parent populate + split, fork, undo the split in the child -> two VMAs;
  // the same undo in the parent re-merges.
  const mm = newMm();
  mmap(mm, S, 2 * P, RW, PRIVATE_ANON_FIXED | 0x8000);
  mprotect(mm, S + P, P, R);
  const child = forkMm(mm);
  assert.equal(mprotect(child, S + P, P, RW), 0);
  assert.deepEqual(layout(child), ['0-1000 rw-p ac', '1000-2000 rw-p ac']);
  assert.equal(mprotect(mm, S + P, P, RW), 0);
  assert.deepEqual(layout(mm), ['0-2000 rw-p ac']);
});

test('DONTUNMAP works on shared and file mappings; old_len 0 duplicates a shared one', () => {
  // 6.18 allows MREMAP_DONTUNMAP on any mapping but VM_DONTEXPAND/VM_PFNMAP ones (host: both
  // shared anonymous and private file mappings move and stay mapped at the old address).
  const mm = newMm();
  mmap(mm, S, 2 * P, RW, SHARED_ANON_FIXED);
  const shm = mm.vmas.file(mm.findVma(S));
  assert.equal(mremap(mm, S, 2 * P, 2 * P, MAYMOVE | FIXED | DONTUNMAP, S + 0x10000), S + 0x10000);
  assert.equal(mm.vmas.file(mm.findVma(S)), shm);
  assert.equal(mm.vmas.file(mm.findVma(S + 0x10000)), shm, 'the copy maps the same shmem file');
  const f = mm.files.intern({ path: '/lib/z', devMajor: 8, devMinor: 1, inode: 9 });
  mmap(mm, S + 0x20000, 2 * P, R, PRIVATE_FIXED, { fileId: f, offset: 0, writable: false });
  const moved = mremap(mm, S + 0x20000, 2 * P, 2 * P, MAYMOVE | DONTUNMAP, 0);
  assert.equal(moved, MMAP_BASE - 2 * P);
  assert.equal(mm.vmas.file(mm.findVma(S + 0x20000)), f);
  // old_len 0: a second mapping of the same shared memory elsewhere; the source stays.
  const dup = mremap(mm, S, 0, 2 * P, MAYMOVE, 0);
  assert.equal(dup, MMAP_BASE - 4 * P);
  assert.equal(mm.vmas.file(mm.findVma(dup)), shm);
  assert.equal(mm.vmas.file(mm.findVma(S)), shm);
  assert.equal(mm.mapCount, 5);
});

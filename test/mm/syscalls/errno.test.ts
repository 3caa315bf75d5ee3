// Errno tables: for each syscall, invalid inputs and the errno Linux 6.18.44 returns for them
// (each row was run on the reference host with the same layout: an rw anonymous mapping of four
// pages at SANDBOX and two files, one open O_RDWR, one O_RDONLY). After every failing call the
// layout must be unchanged unless the row says otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MmStruct } from '../../../src/mm/mm-struct.js';
import {
  brk,
  mmap,
  mprotect,
  mremap,
  munmap,
  prctlSetVmaAnonName,
} from '../../../src/mm/syscalls/index.js';
import type { FileMapping } from '../../../src/mm/syscalls/mmap.js';
import { toEngineNumber } from '../../../src/schemas/uapi.js';
import { layout, newMm, PAGE as P, SANDBOX as S } from './helpers.js';

const EBADF = -9;
const ENOMEM = -12;
const EACCES = -13;
const EFAULT = -14;
const EEXIST = -17;
const EINVAL = -22;
const EOVERFLOW = -75;
const EOPNOTSUPP = -95;
const TASK_SIZE = 0x7fff_ffff_f000;
const U64_TOP_PAGE = 2 ** 64 - 4096;

interface World {
  mm: MmStruct;
  rw: (offset: number) => FileMapping;
  ro: (offset: number) => FileMapping;
}

function world(): World {
  const mm = newMm();
  assert.equal(mmap(mm, S, 4 * P, 3, 0x32), S);
  const a = mm.files.intern({ path: '/data/a', devMajor: 254, devMinor: 0, inode: 11 });
  const b = mm.files.intern({ path: '/data/b', devMajor: 254, devMinor: 0, inode: 12 });
  return {
    mm,
    rw: (offset) => ({ fileId: a, offset, writable: true }),
    ro: (offset) => ({ fileId: b, offset, writable: false }),
  };
}

type Row = [name: string, call: (w: World) => number, expected: number];

function runTable(rows: Row[]): void {
  for (const [name, call, expected] of rows) {
    const w = world();
    const before = layout(w.mm);
    assert.equal(call(w), expected, name);
    assert.deepEqual(layout(w.mm), before, `${name}: layout changed`);
  }
}

test('mmap errno table', () => {
  runTable([
    ['len 0', (w) => mmap(w.mm, 0, 0, 3, 0x22), EINVAL],
    ['len near 2^64', (w) => mmap(w.mm, 0, U64_TOP_PAGE, 3, 0x22), ENOMEM],
    ['MAP_FIXED unaligned', (w) => mmap(w.mm, S + 0x800, P, 3, 0x32), EINVAL],
    ['MAP_FIXED past TASK_SIZE', (w) => mmap(w.mm, TASK_SIZE - P, 2 * P, 3, 0x32), ENOMEM],
    ['FIXED_NOREPLACE over a VMA', (w) => mmap(w.mm, S + P, P, 3, 0x100022), EEXIST],
    ['map type 0', (w) => mmap(w.mm, S + 0x10000, P, 3, 0x30), EINVAL],
    ['SHARED_VALIDATE anonymous', (w) => mmap(w.mm, S + 0x10000, P, 3, 0x33), EINVAL],
    ['shared anonymous GROWSDOWN', (w) => mmap(w.mm, S + 0x10000, P, 3, 0x131), EINVAL],
    ['DROPPABLE with MAP_LOCKED', (w) => mmap(w.mm, S + 0x10000, P, 3, 0x2038), EINVAL],
    ['MAP_HUGETLB (no huge page pool)', (w) => mmap(w.mm, 0, 0x200000, 3, 0x40022), EINVAL],
    ['no MAP_ANONYMOUS, no file', (w) => mmap(w.mm, S + 0x10000, P, 3, 0x12), EBADF],
    ['offset not page aligned', (w) => mmap(w.mm, S + 0x10000, P, 1, 0x12, w.rw(0x123)), EINVAL],
    [
      'shared PROT_WRITE, file read-only',
      (w) => mmap(w.mm, S + 0x10000, P, 3, 0x11, w.ro(0)),
      EACCES,
    ],
    [
      'SHARED_VALIDATE + FIXED_NOREPLACE',
      (w) => mmap(w.mm, S + 0x10000, P, 1, 0x100003, w.rw(0)),
      EOPNOTSUPP,
    ],
    ['file GROWSDOWN', (w) => mmap(w.mm, S + 0x10000, P, 1, 0x112, w.rw(0)), EINVAL],
    ['file offset 2^63', (w) => mmap(w.mm, S + 0x10000, P, 1, 0x12, w.rw(2 ** 63)), EOVERFLOW],
    [
      'file offset 2^64 - 4096',
      (w) => mmap(w.mm, S + 0x10000, P, 1, 0x12, w.rw(U64_TOP_PAGE)),
      EOVERFLOW,
    ],
  ]);
});

test('mmap MAP_SYNC of a regular file fails after unmapping the target (ext4 mmap_prepare)', () => {
  const w = world();
  assert.equal(mmap(w.mm, S + P, P, 1, 0x80012, w.rw(0)), EOPNOTSUPP);
  assert.deepEqual(layout(w.mm), ['0-1000 rw-p ac', '2000-4000 rw-p ac']);
  // Anonymous MAP_SYNC is accepted (VM_SYNC set, observed as "sf" in smaps).
  assert.equal(mmap(w.mm, S + 0x10000, P, 3, 0x80032), S + 0x10000);
});

test('munmap errno table', () => {
  runTable([
    ['unaligned', (w) => munmap(w.mm, S + 0x800, P), EINVAL],
    ['len 0', (w) => munmap(w.mm, S, 0), EINVAL],
    ['start above TASK_SIZE', (w) => munmap(w.mm, 0x8000_0000_0000, P), EINVAL],
    ['start at TASK_SIZE', (w) => munmap(w.mm, TASK_SIZE, P), EINVAL],
    ['end past TASK_SIZE', (w) => munmap(w.mm, TASK_SIZE - P, 2 * P), EINVAL],
    ['len near 2^64', (w) => munmap(w.mm, S, U64_TOP_PAGE), EINVAL],
    ['nothing mapped', (w) => munmap(w.mm, S + 0x100000, P), 0],
  ]);
});

test('mprotect errno table', () => {
  runTable([
    ['len 0 ignores bad prot', (w) => mprotect(w.mm, S, 0, 0xff), 0],
    ['unaligned start, len 0', (w) => mprotect(w.mm, S + 1, 0, 0xff), EINVAL],
    ['GROWSDOWN|GROWSUP', (w) => mprotect(w.mm, S, P, 0x3000001), EINVAL],
    ['unknown prot bit', (w) => mprotect(w.mm, S, P, 0x13), EINVAL],
    ['GROWSDOWN on a normal VMA', (w) => mprotect(w.mm, S, P, 0x1000001), EINVAL],
    ['GROWSUP (none on x86)', (w) => mprotect(w.mm, S, P, 0x2000001), EINVAL],
    ['end wraps past 2^64', (w) => mprotect(w.mm, S, U64_TOP_PAGE, 1), ENOMEM],
    ['nothing mapped', (w) => mprotect(w.mm, S + 0x100000, P, 1), ENOMEM],
    ['hole at the start', (w) => mprotect(w.mm, S - P, 2 * P, 1), ENOMEM],
    ['beyond TASK_SIZE', (w) => mprotect(w.mm, TASK_SIZE, P, 1), ENOMEM],
  ]);
  const w = world();
  assert.equal(mmap(w.mm, S + 0x10000, P, 1, 0x11, w.ro(0)), S + 0x10000);
  assert.equal(mprotect(w.mm, S + 0x10000, P, 3), EACCES, 'write on a read-only shared file');
  // PROT_SEM is accepted and does nothing.
  assert.equal(mprotect(w.mm, S, P, 0xb), 0);
});

test('mremap errno table', () => {
  runTable([
    ['unknown flag', (w) => mremap(w.mm, S, P, P, 8, 0), EINVAL],
    ['unaligned old address', (w) => mremap(w.mm, S + 0x800, P, P, 0, 0), EINVAL],
    ['new_len 0', (w) => mremap(w.mm, S, P, 0, 0, 0), EINVAL],
    ['new_len > TASK_SIZE', (w) => mremap(w.mm, S, P, 0x8000_0000_0000, 1, 0), EINVAL],
    ['FIXED, new address unaligned', (w) => mremap(w.mm, S, P, P, 3, S + 0x100800), EINVAL],
    ['FIXED without MAYMOVE', (w) => mremap(w.mm, S, P, P, 2, S + 0x100000), EINVAL],
    ['FIXED new address past TASK_SIZE', (w) => mremap(w.mm, S, P, P, 3, TASK_SIZE), EINVAL],
    ['FIXED overlapping ranges', (w) => mremap(w.mm, S, 2 * P, 2 * P, 3, S + P), EINVAL],
    ['DONTUNMAP without MAYMOVE', (w) => mremap(w.mm, S, P, P, 6, S + 0x100000), EINVAL],
    ['DONTUNMAP resizing', (w) => mremap(w.mm, S, P, 2 * P, 5, S + 0x100000), EINVAL],
    ['nothing at old address', (w) => mremap(w.mm, S + 0x200000, P, 2 * P, 1, 0), EFAULT],
    ['old_len 0 on a private mapping', (w) => mremap(w.mm, S, 0, 2 * P, 1, 0), EINVAL],
    ['growing across the VMA end', (w) => mremap(w.mm, S + 2 * P, 4 * P, 5 * P, 1, 0), EFAULT],
  ]);
  const w = world();
  mmap(w.mm, S + 4 * P, P, 1, 0x32);
  assert.equal(mremap(w.mm, S, 4 * P, 5 * P, 0, 0), ENOMEM, 'grow in place blocked, no MAYMOVE');
});

test('prctl(PR_SET_VMA_ANON_NAME) errno table', () => {
  runTable([
    ['80-byte name', (w) => prctlSetVmaAnonName(w.mm, S, P, 'x'.repeat(80)), EINVAL],
    ['forbidden character [', (w) => prctlSetVmaAnonName(w.mm, S, P, 'a[b'), EINVAL],
    ['control character', (w) => prctlSetVmaAnonName(w.mm, S, P, 'a\tb'), EINVAL],
    ['non-ASCII', (w) => prctlSetVmaAnonName(w.mm, S, P, 'caf\u00e9'), EINVAL],
    ['unaligned', (w) => prctlSetVmaAnonName(w.mm, S + 1, P, 'ok'), EINVAL],
    // 2^64 - 2048 is exact as a double; PAGE_ALIGN wraps it to 0.
    ['len wraps to 0', (w) => prctlSetVmaAnonName(w.mm, S, 2 ** 64 - 2048, 'ok'), EINVAL],
    ['len 0', (w) => prctlSetVmaAnonName(w.mm, S, 0, 'ok'), 0],
    ['nothing mapped', (w) => prctlSetVmaAnonName(w.mm, S + 0x100000, P, 'ok'), ENOMEM],
  ]);
  // 79 bytes fit (80 with the NUL).
  const w = world();
  assert.equal(prctlSetVmaAnonName(w.mm, S, P, 'y'.repeat(79)), 0);
  // A file-backed VMA is EBADF; VMAs before it in the range keep their new name.
  mmap(w.mm, S + 4 * P, P, 1, 0x12, w.rw(0));
  assert.equal(prctlSetVmaAnonName(w.mm, S + 3 * P, 2 * P, 'n'), EBADF);
  assert.match(layout(w.mm)[2], /3000-4000 rw-p ac \[n\]/);
  // A hole: every VMA in the range is named, then ENOMEM.
  mmap(w.mm, S + 6 * P, P, 3, 0x32);
  assert.equal(prctlSetVmaAnonName(w.mm, S + 5 * P, 2 * P, 'h'), ENOMEM);
  assert.match(layout(w.mm).at(-1) ?? '', /6000-7000 rw-p ac \[h\]/);
});

test('brk refuses every break above TASK_SIZE, incl. those that page-align to 0 (mod 2^64)', () => {
  // SYSCALL_DEFINE1(brk): newbrk = PAGE_ALIGN(brk) wraps to 0 for brk > 2^64 - PAGE_SIZE, and
  // check_brk_limits(oldbrk, newbrk - oldbrk) sees an (unsigned) length near 2^64: refused, the
  // break is returned unchanged (observed on the host: test/differential random brk ops).
  const mm = newMm();
  const heap = S + 0x100000;
  mm.startBrk = heap;
  mm.brk = heap;
  assert.equal(brk(mm, heap + 2 * P), heap + 2 * P);
  const before = layout(mm);
  const huge = [
    0xffff_ffff_ffff_ffffn,
    0xffff_ffff_ffff_f001n,
    0xffff_ffff_ffff_f800n,
    0xffff_ffff_ffff_f000n,
    1n << 63n,
    0x8000_0000_0000_0001n,
    BigInt(TASK_SIZE) + 1n,
    BigInt(TASK_SIZE + P),
  ];
  for (const v of huge) {
    // The HTTP layer hands the engine toEngineNumber(v) (src/schemas/uapi.ts).
    assert.equal(brk(mm, toEngineNumber(v)), heap + 2 * P, `brk(0x${v.toString(16)})`);
    assert.deepEqual(layout(mm), before, `layout after brk(0x${v.toString(16)})`);
    assert.equal(mm.brk, heap + 2 * P);
  }
  assert.equal(U64_TOP_PAGE, toEngineNumber(0xffff_ffff_ffff_f000n));
});

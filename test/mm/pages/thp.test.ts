/**
 * Transparent huge pages and madvise(MADV_HUGEPAGE / MADV_NOHUGEPAGE / MADV_DONTNEED) in the
 * engine, step by step as a program on the reference host did them (Linux 6.18.44, THP
 * `madvise`, no zero page: the values below are what its /proc/self/smaps showed after each
 * step; the kernel itself checks the same steps in test/differential, touch-scenarios.ts
 * `thp-*`). Also the other THP modes (`always`, `never`) and the zero-page machine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MmStruct } from '../../../src/mm/mm-struct.js';
import type { ThpMode } from '../../../src/mm/pages/thp.js';
import { forkMm, mmap, mprotect, munmap } from '../../../src/mm/syscalls/index.js';
import {
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  madvise,
} from '../../../src/mm/syscalls/madvise.js';
import { mremap } from '../../../src/mm/syscalls/mremap.js';
import { touch } from '../../../src/mm/syscalls/touch.js';
import { touchFaults } from '../../../src/mm/syscalls/touch-result.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_LOCKED,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from '../../../src/mm/vm-flags.js';
import { ByteSink } from '../../../src/procfs/byte-sink.js';
import { readSmapsChunk } from '../../../src/procfs/smaps-text.js';
import { context } from '../../procfs/strategies/helpers.js';
import { newMm } from '../syscalls/helpers.js';

const M2 = 0x200000;
const P = 0x2000_0000_0000;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
const SHOWN = ['Rss', 'Pss', 'Shared_Dirty', 'Private_Dirty', 'AnonHugePages', 'THPeligible'];

function thpMm(thp: ThpMode = 'madvise', noZeroPage = true): MmStruct {
  return newMm(1024, undefined, { noZeroPage, thp });
}

/** The smaps blocks inside [lo, hi) as "start-end prot Rss=.. Pss=.. … | VmFlags" (kB, offsets from P). */
function smaps(mm: MmStruct, lo = P, hi = P + 64 * M2): string[] {
  const ctx = context();
  ctx.position.rewind();
  const sink = new ByteSink();
  while (readSmapsChunk(ctx, mm, ctx.position, 0, sink) > 0) {}
  const out: string[] = [];
  for (const b of sink.toLatin1().split(/\n(?=[0-9a-f]+-)/)) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/.exec(b);
    if (!m) continue;
    const s = Number.parseInt(m[1], 16);
    const e = Number.parseInt(m[2], 16);
    if (s < lo || e > hi) continue;
    const f = SHOWN.map((k) => `${k}=${new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(b)?.[1]}`);
    const flags = /^VmFlags: (.*)$/m.exec(b)?.[1].trim();
    out.push(`${(s - P).toString(16)}-${(e - P).toString(16)} ${m[3]} ${f.join(' ')} | ${flags}`);
  }
  return out;
}

function faults(mm: MmStruct, addr: number, len: number, write: boolean): number {
  const r = touch(mm, addr, len, write, null);
  assert.ok(r >= 0, `touch ${addr.toString(16)} refused: ${r}`);
  return touchFaults(r);
}

test('MADV_HUGEPAGE: hg, THPeligible, one fault maps 2 MiB, partial mprotect/madvise split the PMD, fork shares it', () => {
  const mm = thpMm();
  assert.equal(mmap(mm, P, 16 * M2, RW, ANON), P);
  assert.equal(madvise(mm, P + M2, 6 * M2, MADV_HUGEPAGE), 0);
  assert.deepEqual(smaps(mm), [
    '0-200000 rw-p Rss=0 Pss=0 Shared_Dirty=0 Private_Dirty=0 AnonHugePages=0 THPeligible=0 | rd wr mr mw me ac',
    '200000-e00000 rw-p Rss=0 Pss=0 Shared_Dirty=0 Private_Dirty=0 AnonHugePages=0 THPeligible=1 | rd wr mr mw me ac hg',
    'e00000-2000000 rw-p Rss=0 Pss=0 Shared_Dirty=0 Private_Dirty=0 AnonHugePages=0 THPeligible=0 | rd wr mr mw me ac',
  ]);
  // A read without a zero page allocates the huge page (dirty); the write after it: no fault.
  assert.equal(faults(mm, P + M2 + 5, 1, false), 1);
  assert.equal(faults(mm, P + M2 + 3 * 4096, 1, true), 0);
  assert.equal(faults(mm, P + 2 * M2 + 7 * 4096, 1, true), 1);
  assert.equal(faults(mm, P + 2 * M2, M2, true), 0);
  assert.equal(faults(mm, P + 3 * M2, 1, true) + faults(mm, P + 4 * M2, 1, true), 2);
  assert.equal(mprotect(mm, P + 3 * M2 + 4096, 4096, PROT_READ), 0);
  assert.deepEqual(smaps(mm).slice(1, 4), [
    '200000-601000 rw-p Rss=4100 Pss=4100 Shared_Dirty=0 Private_Dirty=4100 AnonHugePages=4096 THPeligible=1 | rd wr mr mw me ac hg',
    '601000-602000 r--p Rss=4 Pss=4 Shared_Dirty=0 Private_Dirty=4 AnonHugePages=0 THPeligible=0 | rd mr mw me ac hg',
    '602000-e00000 rw-p Rss=4088 Pss=4088 Shared_Dirty=0 Private_Dirty=4088 AnonHugePages=2048 THPeligible=1 | rd wr mr mw me ac hg',
  ]);
  // Merged back: the split PMD stays split.
  assert.equal(mprotect(mm, P + 3 * M2 + 4096, 4096, RW), 0);
  assert.deepEqual(
    smaps(mm)[1],
    '200000-e00000 rw-p Rss=8192 Pss=8192 Shared_Dirty=0 Private_Dirty=8192 AnonHugePages=6144 THPeligible=1 | rd wr mr mw me ac hg',
  );
  assert.equal(madvise(mm, P + 4 * M2 + 8192, 4096, MADV_NOHUGEPAGE), 0);
  const afterNh = [
    '200000-802000 rw-p Rss=6152 Pss=6152 Shared_Dirty=0 Private_Dirty=6152 AnonHugePages=4096 THPeligible=1 | rd wr mr mw me ac hg',
    '802000-803000 rw-p Rss=4 Pss=4 Shared_Dirty=0 Private_Dirty=4 AnonHugePages=0 THPeligible=0 | rd wr mr mw me ac nh',
    '803000-e00000 rw-p Rss=2036 Pss=2036 Shared_Dirty=0 Private_Dirty=2036 AnonHugePages=0 THPeligible=1 | rd wr mr mw me ac hg',
  ];
  assert.deepEqual(smaps(mm).slice(1, 4), afterNh);
  // fork: the child maps the same huge pages (Pss halves, Shared_Dirty) and keeps its PMDs.
  const child = forkMm(mm);
  assert.deepEqual(smaps(mm).slice(1, 4), [
    '200000-802000 rw-p Rss=6152 Pss=3076 Shared_Dirty=6152 Private_Dirty=0 AnonHugePages=4096 THPeligible=1 | rd wr mr mw me ac hg',
    '802000-803000 rw-p Rss=4 Pss=2 Shared_Dirty=4 Private_Dirty=0 AnonHugePages=0 THPeligible=0 | rd wr mr mw me ac nh',
    '803000-e00000 rw-p Rss=2036 Pss=1018 Shared_Dirty=2036 Private_Dirty=0 AnonHugePages=0 THPeligible=1 | rd wr mr mw me ac hg',
  ]);
  // A write to a shared huge page splits its PMD and copies one page.
  assert.equal(faults(mm, P + 2 * M2 + 4096, 1, true), 1);
  assert.deepEqual(
    smaps(mm)[1],
    '200000-802000 rw-p Rss=6152 Pss=3078 Shared_Dirty=6148 Private_Dirty=4 AnonHugePages=2048 THPeligible=1 | rd wr mr mw me ac hg',
  );
  assert.match(smaps(child)[1], /Pss=3078 Shared_Dirty=6148 Private_Dirty=4 AnonHugePages=4096/);
  // The child gone, everything is private again.
  munmap(child, P, 16 * M2);
  assert.deepEqual(
    smaps(mm)[1],
    '200000-802000 rw-p Rss=6152 Pss=6152 Shared_Dirty=0 Private_Dirty=6152 AnonHugePages=2048 THPeligible=1 | rd wr mr mw me ac hg',
  );
});

test('madvise errors in the kernel order, holes advised then ENOMEM, DONTNEED zaps (splitting a PMD)', () => {
  const mm = thpMm();
  assert.equal(mmap(mm, P, 0x10000, RW, ANON), P);
  assert.equal(madvise(mm, P + 1, 4096, 999), -22, 'unknown advice first');
  assert.equal(madvise(mm, P + 1, 4096, MADV_HUGEPAGE), -22);
  assert.equal(madvise(mm, 0x3000_0000_0000, 0, MADV_HUGEPAGE), 0);
  assert.equal(madvise(mm, 0x3000_0000_0000, 4096, MADV_HUGEPAGE), -12);
  assert.equal(madvise(mm, P, 2 ** 64 - 4096, MADV_HUGEPAGE), -22);
  assert.equal(
    madvise(mm, P, 2 ** 64 - 2048, MADV_HUGEPAGE),
    -22,
    "a small negative length (the engine's form of one)",
  );
  assert.equal(madvise(mm, P - 4096, 8192, MADV_HUGEPAGE), -12, 'hole first');
  assert.equal(madvise(mm, 0x7fff_ffff_f000, 4096, MADV_HUGEPAGE), -12);
  assert.deepEqual(
    smaps(mm).map((l) => l.split(' | ')[1]),
    ['rd wr mr mw me ac hg', 'rd wr mr mw me ac'],
  );
  assert.equal(madvise(mm, P, 4096, MADV_NOHUGEPAGE), 0);
  assert.equal(mmap(mm, P + M2, 0x400000, RW, ANON | MAP_LOCKED), P + M2);
  assert.equal(madvise(mm, P + M2, 4096, MADV_DONTNEED), -22, 'VM_LOCKED');
  const shared = mmap(mm, P + 4 * M2, 0x400000, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
  assert.equal(madvise(mm, shared, 0x400000, MADV_HUGEPAGE), 0);
  assert.match(smaps(mm).at(-1) ?? '', /THPeligible=0 \| rd wr sh mr mw me ms hg$/);
  // DONTNEED of one page of a huge page: the PMD is split, that page goes.
  assert.equal(mmap(mm, P + 8 * M2, 2 * M2, RW, ANON), P + 8 * M2);
  assert.equal(madvise(mm, P + 8 * M2, 2 * M2, MADV_HUGEPAGE), 0);
  assert.equal(faults(mm, P + 8 * M2, 2 * M2, true), 2);
  assert.equal(madvise(mm, P + 8 * M2 + 4096, 4096, MADV_DONTNEED), 0);
  assert.match(smaps(mm).at(-1) ?? '', /Rss=4092 .* AnonHugePages=2048 THPeligible=1/);
  // A whole huge page zapped: the block is empty again, the next fault maps a PMD again.
  assert.equal(madvise(mm, P + 9 * M2, M2, MADV_DONTNEED), 0);
  assert.equal(faults(mm, P + 9 * M2, M2, true), 1);
  assert.match(smaps(mm).at(-1) ?? '', /Rss=4092 .* AnonHugePages=2048/);
});

test('modes: always needs no madvise but honours nh; never maps no huge page; a zero page maps the huge zero page', () => {
  const always = thpMm('always');
  assert.equal(mmap(always, P, 4 * M2, RW, ANON), P);
  assert.equal(madvise(always, P + 2 * M2, 2 * M2, MADV_NOHUGEPAGE), 0);
  assert.equal(faults(always, P, 4 * M2, true), 2 + 1024);
  assert.deepEqual(smaps(always), [
    '0-400000 rw-p Rss=4096 Pss=4096 Shared_Dirty=0 Private_Dirty=4096 AnonHugePages=4096 THPeligible=1 | rd wr mr mw me ac',
    '400000-800000 rw-p Rss=4096 Pss=4096 Shared_Dirty=0 Private_Dirty=4096 AnonHugePages=0 THPeligible=0 | rd wr mr mw me ac nh',
  ]);
  const never = thpMm('never');
  assert.equal(mmap(never, P, 2 * M2, RW, ANON), P);
  assert.equal(madvise(never, P, 2 * M2, MADV_HUGEPAGE), 0);
  assert.equal(faults(never, P, 2 * M2, true), 1024);
  assert.match(smaps(never)[0], /AnonHugePages=0 THPeligible=0 \| rd wr mr mw me ac hg$/);
  // With a zero page: a read maps the huge zero page (no Rss, but an anon_vma), a write then
  // allocates a huge page in one fault.
  const zero = thpMm('madvise', false);
  assert.equal(mmap(zero, P, 2 * M2, PROT_READ, ANON), P);
  assert.equal(mmap(zero, P + 2 * M2, 2 * M2, PROT_NONE, ANON), P + 2 * M2);
  assert.equal(madvise(zero, P, 4 * M2, MADV_HUGEPAGE), 0);
  assert.equal(faults(zero, P, 2 * M2, false), 2);
  assert.deepEqual(smaps(zero), [
    '0-400000 r--p Rss=0 Pss=0 Shared_Dirty=0 Private_Dirty=0 AnonHugePages=0 THPeligible=1 | rd mr mw me hg',
    '400000-800000 ---p Rss=0 Pss=0 Shared_Dirty=0 Private_Dirty=0 AnonHugePages=0 THPeligible=1 | mr mw me hg',
  ]);
  assert.equal(mprotect(zero, P, 2 * M2, RW), 0);
  assert.equal(faults(zero, P + 4096, 4096, true), 1);
  assert.match(smaps(zero)[0], /Rss=2048 .*AnonHugePages=2048 THPeligible=1/);
});

test('mremap: an aligned move keeps the PMD, an unaligned one splits it; munmap of part splits', () => {
  const mm = thpMm();
  assert.equal(mmap(mm, P, 4 * M2, RW, ANON), P);
  assert.equal(madvise(mm, P, 4 * M2, MADV_HUGEPAGE), 0);
  assert.equal(faults(mm, P, 4 * M2, true), 4);
  assert.equal(mremap(mm, P, M2, M2, MREMAP_MAYMOVE | MREMAP_FIXED, P + 8 * M2), P + 8 * M2);
  assert.equal(
    mremap(mm, P + M2, M2, M2, MREMAP_MAYMOVE | MREMAP_FIXED, P + 12 * M2 + 4096),
    P + 12 * M2 + 4096,
  );
  assert.equal(munmap(mm, P + 2 * M2 + 4096, 4096), 0);
  assert.deepEqual(
    smaps(mm).map((l) => l.replace(/ Pss=\d+ Shared_Dirty=0/, '')),
    [
      '400000-401000 rw-p Rss=4 Private_Dirty=4 AnonHugePages=0 THPeligible=0 | rd wr mr mw me ac hg',
      '402000-800000 rw-p Rss=4088 Private_Dirty=4088 AnonHugePages=2048 THPeligible=1 | rd wr mr mw me ac hg',
      '1000000-1200000 rw-p Rss=2048 Private_Dirty=2048 AnonHugePages=2048 THPeligible=1 | rd wr mr mw me ac hg',
      '1801000-1a01000 rw-p Rss=2048 Private_Dirty=2048 AnonHugePages=0 THPeligible=0 | rd wr mr mw me ac hg',
    ],
  );
});

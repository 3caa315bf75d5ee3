/**
 * Page-table lifetime in the engine (src/mm/pages/table-regions.ts), read through VmPTE: which
 * tables a fault, an unmap, MADV_DONTNEED, mremap and fork leave, and that a snapshot keeps
 * them. The kernel checks the same rules in test/differential (table-scenarios.ts, and VmPTE at
 * every checkpoint of every differential script); these pin the engine's arithmetic.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { captureMmPages, PageCapture, PageRestore } from '../../../src/mm/image/page-image.js';
import type { MmStruct } from '../../../src/mm/mm-struct.js';
import { mmRss } from '../../../src/mm/pages/page-counts.js';
import { tableHead } from '../../../src/mm/pages/page-table.js';
import { tableRuns } from '../../../src/mm/pages/table-regions.js';
import { forkMm, mmap, munmap } from '../../../src/mm/syscalls/index.js';
import { MADV_DONTNEED, madvise } from '../../../src/mm/syscalls/madvise.js';
import { mremap } from '../../../src/mm/syscalls/mremap.js';
import { touch } from '../../../src/mm/syscalls/touch.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_NORESERVE,
  MAP_PRIVATE,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_READ,
  PROT_WRITE,
} from '../../../src/mm/vm-flags.js';
import { newMm, PAGE, SANDBOX } from '../syscalls/helpers.js';

const M2 = 2 * 1024 * 1024;
const G1 = 1024 * 1024 * 1024;
const KB = 1024;

function anon(mm: MmStruct, addr: number, len: number): void {
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
  assert.equal(mmap(mm, addr, len, PROT_READ | PROT_WRITE, flags), addr);
}

function write(mm: MmStruct, addr: number, len = PAGE): void {
  assert.ok(touch(mm, addr, len, true, null) >= 0);
}

const vmPte = (mm: MmStruct) => mmRss(mm).pageTableBytes / KB;

test('a fault allocates the PUD, PMD and PTE tables on the way down, once per region', () => {
  const mm = newMm();
  anon(mm, SANDBOX, 4 * M2);
  assert.equal(vmPte(mm), 0, 'mapped, never touched');
  write(mm, SANDBOX);
  assert.equal(vmPte(mm), 12, 'one page: a PUD, a PMD and a PTE table');
  write(mm, SANDBOX + 5 * PAGE);
  assert.equal(vmPte(mm), 12, 'same 2 MiB region');
  write(mm, SANDBOX + 3 * M2);
  assert.equal(vmPte(mm), 16, 'another region of the same GiB: one more PTE table');
  anon(mm, SANDBOX + 2 * G1, PAGE);
  write(mm, SANDBOX + 2 * G1);
  assert.equal(vmPte(mm), 24, 'another GiB: a PMD and a PTE table');
});

test('munmap frees a table only once no VMA is left in its region (free_pgtables floor/ceiling)', () => {
  const mm = newMm();
  anon(mm, SANDBOX, 4 * PAGE);
  anon(mm, SANDBOX + 8 * PAGE, 4 * PAGE);
  write(mm, SANDBOX, 4 * PAGE);
  write(mm, SANDBOX + 8 * PAGE, 4 * PAGE);
  assert.equal(vmPte(mm), 12);
  assert.equal(munmap(mm, SANDBOX, 4 * PAGE), 0);
  assert.equal(vmPte(mm), 12, 'the VMA above still lies in the region');
  assert.equal(mmRss(mm).anon, 4 * PAGE);
  assert.equal(munmap(mm, SANDBOX + 8 * PAGE, 4 * PAGE), 0);
  assert.equal(vmPte(mm), 0, 'nothing left: PTE, PMD and PUD tables freed');
});

test('MADV_DONTNEED keeps a partly zapped region its table and frees a whole one', () => {
  const mm = newMm();
  anon(mm, SANDBOX, 2 * M2);
  write(mm, SANDBOX, 4 * PAGE);
  write(mm, SANDBOX + M2, 4 * PAGE);
  assert.equal(vmPte(mm), 16);
  assert.equal(madvise(mm, SANDBOX, 4 * PAGE, MADV_DONTNEED), 0);
  assert.equal(vmPte(mm), 16, 'pages gone, table kept');
  assert.equal(madvise(mm, SANDBOX + M2, M2, MADV_DONTNEED), 0);
  assert.equal(vmPte(mm), 12, 'a whole region emptied: its PTE table is reclaimed');
  assert.equal(mmRss(mm).anon, 0);
});

test('mremap: the destination gets tables, a DONTUNMAP source keeps its own unless moved whole', () => {
  const mm = newMm();
  const keep = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP;
  anon(mm, SANDBOX + 16 * PAGE, 4 * PAGE);
  write(mm, SANDBOX + 16 * PAGE, 4 * PAGE);
  const to = SANDBOX + 4 * M2 + 32 * PAGE;
  assert.equal(mremap(mm, SANDBOX + 16 * PAGE, 4 * PAGE, 4 * PAGE, keep, to), to);
  assert.equal(vmPte(mm), 16, 'source table kept (PTEs moved), one at the destination');
  assert.equal(mmRss(mm).anon, 4 * PAGE);

  const mm2 = newMm();
  anon(mm2, SANDBOX, M2);
  write(mm2, SANDBOX + 7 * PAGE);
  assert.equal(mremap(mm2, SANDBOX, M2, M2, keep, SANDBOX + 4 * M2), SANDBOX + 4 * M2);
  assert.equal(vmPte(mm2), 12, 'an aligned 2 MiB extent moves its table: the source has none');

  const mm3 = newMm();
  anon(mm3, SANDBOX + 16 * PAGE, M2 - 16 * PAGE);
  write(mm3, SANDBOX + 20 * PAGE);
  const dst = SANDBOX + 4 * M2 + 16 * PAGE;
  assert.equal(mremap(mm3, SANDBOX + 16 * PAGE, M2 - 16 * PAGE, M2 - 16 * PAGE, keep, dst), dst);
  assert.equal(vmPte(mm3), 12, 'realigned to the boundary below: the table moves whole');
});

test('a fork child gets the tables of the VMAs it copies, empty ones too', () => {
  const mm = newMm();
  anon(mm, SANDBOX, 8 * PAGE);
  write(mm, SANDBOX, 8 * PAGE);
  assert.equal(madvise(mm, SANDBOX, 8 * PAGE, MADV_DONTNEED), 0);
  const child = forkMm(mm);
  assert.equal(mmRss(child).anon, 0);
  assert.equal(vmPte(child), 12, 'the anon_vma VMA: its (empty) tables copied');
});

test('a snapshot keeps tables without pages; an image without tables derives them from the runs', () => {
  const mm = newMm();
  anon(mm, SANDBOX, 8 * PAGE);
  anon(mm, SANDBOX + 4 * M2, PAGE);
  write(mm, SANDBOX, 8 * PAGE);
  write(mm, SANDBOX + 4 * M2);
  assert.equal(madvise(mm, SANDBOX, 8 * PAGE, MADV_DONTNEED), 0);
  assert.equal(vmPte(mm), 16);
  // Anonymous pages only: no file or object refs, so no file tables are needed either way.
  const img = captureMmPages(mm, {} as never, new PageCapture());

  const restoredFrom = (tablesKept: boolean) => {
    const target = newMm(1024, mm.globals);
    anon(target, SANDBOX, 8 * PAGE);
    anon(target, SANDBOX + 4 * M2, PAGE);
    const restore = new PageRestore([], {} as never, mm.pages);
    restore.restoreMm(target, { ...img, tables: tablesKept ? img.tables : null });
    return vmPte(target);
  };
  assert.equal(restoredFrom(true), 16, 'v5: the emptied region keeps its table');
  assert.equal(restoredFrom(false), 12, 'before v5: only regions that hold a page');
});

test('only tables that outlived their pages are stored: a touched process keeps no table record', () => {
  const mm = newMm();
  anon(mm, SANDBOX, 8 * PAGE);
  anon(mm, SANDBOX + 3 * G1, 8 * PAGE);
  write(mm, SANDBOX, 8 * PAGE);
  write(mm, SANDBOX + 3 * G1, 8 * PAGE);
  const bare = () => tableRuns(mm.pages, tableHead(mm, false));
  assert.equal(vmPte(mm), 20, 'one PUD table, two PMD and two PTE tables');
  assert.deepEqual(bare(), [], 'every table maps a page: nothing stored');
  assert.equal(madvise(mm, SANDBOX, 8 * PAGE, MADV_DONTNEED), 0);
  assert.equal(bare().length, 2, 'one run: the emptied PTE table');
  assert.equal(vmPte(mm), 20);
  assert.equal(munmap(mm, SANDBOX, 8 * PAGE), 0);
  assert.deepEqual(bare(), [], 'freed with its region');
  assert.equal(vmPte(mm), 12);
});

test('an unmap across many GiB frees the upper tables it empties and keeps those a VMA still meets', () => {
  const mm = newMm();
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE;
  assert.equal(mmap(mm, SANDBOX, 40 * G1, PROT_READ | PROT_WRITE, flags), SANDBOX);
  write(mm, SANDBOX);
  write(mm, SANDBOX + 30 * G1);
  write(mm, SANDBOX + 39 * G1 + M2);
  assert.equal(madvise(mm, SANDBOX + 30 * G1, PAGE, MADV_DONTNEED), 0);
  assert.equal(vmPte(mm), 4 * (1 + 3 + 3), 'one PUD, three PMD and three PTE tables');
  // 32 GiB from the start: the tables of GiB 0 and 30 go, GiB 39's (a VMA is left there) stay.
  assert.equal(munmap(mm, SANDBOX, 32 * G1), 0);
  assert.equal(vmPte(mm), 4 * (1 + 1 + 1));
  assert.equal(munmap(mm, SANDBOX + 32 * G1, 8 * G1), 0);
  assert.equal(vmPte(mm), 0);
});

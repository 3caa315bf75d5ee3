// The seam smaps/status read: an address space nobody touched has no resident pages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatherVmaPages, mmRss, newPageCounts } from '../../../src/mm/pages/page-counts.js';
import { mmap } from '../../../src/mm/syscalls/index.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
} from '../../../src/mm/vm-flags.js';
import { newMm, SANDBOX } from '../syscalls/helpers.js';

test('an untouched VMA counts no pages and the mm no RSS', () => {
  const mm = newMm();
  const a = mmap(
    mm,
    SANDBOX,
    8 * 4096,
    PROT_READ | PROT_WRITE,
    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
  );
  assert.equal(a, SANDBOX);
  const acc = newPageCounts();
  gatherVmaPages(mm, mm.vmaLookup(SANDBOX), acc);
  assert.deepEqual(acc, newPageCounts());
  assert.deepEqual(mmRss(mm), { anon: 0, file: 0, shmem: 0, hiwaterRss: 0, pageTableBytes: 0 });
});

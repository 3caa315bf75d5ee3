/**
 * The sizing rule that puts the memory budget in front of every shared table (table-charge.ts),
 * checked for budgets from the smallest accepted one to past the largest limit the budget holds
 * (2^31 - 1 pages), without allocating any table: for each, the charge of a table filled to its
 * capacity is more than the budget's limit, so a client always meets ENOMEM from the budget
 * first; and under a budget the table is sized for, an entry is charged its own size.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pageRecordsFor } from '../../src/cpus/sim-options.js';
import {
  ANON_NAME_SLOT_BYTES,
  anonNameSlotsFor,
  MAX_ANON_NAME_SLOTS,
} from '../../src/mm/anon-names.js';
import { PAGE_BYTES } from '../../src/mm/arena-layout.js';
import { HEAP_MAX_BLOCK } from '../../src/mm/file-heap.js';
import {
  chargedPages,
  ENTRY_BYTES,
  fileTableCharges,
  fileTableGeometry,
  fileTableReserveFor,
  INITIAL_HASH_SLOTS,
} from '../../src/mm/file-table-layout.js';
import {
  FAULT_RESERVE,
  RECORD_BYTES,
  RECORDS_PER_PAGE,
  recordBlockPages,
} from '../../src/mm/pages/page-pool.js';
import { chargePerEntry } from '../../src/mm/table-charge.js';

const GIB = 2 ** 30;
/** The budget's limit in pages for --max-memory `m` (MemoryBudget: whole pages, at most 2^31 - 1). */
const limitPages = (m: number) => Math.min(0x7fff_ffff, Math.floor(m / PAGE_BYTES));

const BUDGETS = [
  1 << 20, // the smallest --max-memory accepted
  64 << 20,
  1 * GIB,
  3.5e9, // where the 1.75 GiB path heap used to be filled below the budget
  12.6e9, // the default on this 24 GiB machine (half of RAM)
  24 * GIB,
  1024 * GIB,
  0x7fff_ffff * PAGE_BYTES, // the largest limit a budget holds
  Number.MAX_SAFE_INTEGER, // accepted, clamped to that limit
];

describe('shared tables are charged so that the budget runs out first', () => {
  it('anon names: a full table costs more than any budget; 96 B a name up to 4 GiB', () => {
    for (const m of BUDGETS) {
      const slots = anonNameSlotsFor(m);
      assert.ok(slots <= MAX_ANON_NAME_SLOTS);
      const per = chargePerEntry(ANON_NAME_SLOT_BYTES, slots, m);
      // AnonNameTable.chargeSlot: pages through the end of the last slot, header included.
      const full = Math.ceil((64 + (slots + 1) * per) / PAGE_BYTES);
      assert.ok(full > limitPages(m), `${m}: ${full} pages <= limit ${limitPages(m)}`);
      if (m <= 4 * GIB - 2 * PAGE_BYTES) assert.equal(per, ANON_NAME_SLOT_BYTES, `${m}`);
    }
    // The default budget: ~282 B a name, 44.7 M names (was 1 Mi names, full at ~300 MB).
    const per = chargePerEntry(ANON_NAME_SLOT_BYTES, anonNameSlotsFor(12.6e9), 12.6e9);
    assert.ok(per > 280 && per < 285, `${per}`);
  });

  it('file table: entries and path heap each cost more than any budget when full', () => {
    for (const m of BUDGETS) {
      const { maxFiles, heapBytes } = fileTableReserveFor(m);
      const g = fileTableGeometry(maxFiles, heapBytes);
      const c = fileTableCharges(maxFiles, heapBytes, m);
      const base = chargedPages(1, HEAP_MAX_BLOCK, INITIAL_HASH_SLOTS, c);
      // Every id handed out, nothing else: FileTableSlots.chargeLocked's want.
      const entries = chargedPages(g.capacity, HEAP_MAX_BLOCK, INITIAL_HASH_SLOTS, c) - base;
      assert.ok(entries > limitPages(m), `${m}: entries ${entries} <= ${limitPages(m)}`);
      // The heap's front at its end, one id.
      const heap = chargedPages(1, g.heapBytes, INITIAL_HASH_SLOTS, c) - base;
      assert.ok(heap > limitPages(m), `${m}: heap ${heap} <= ${limitPages(m)}`);
      if (m < GIB) assert.deepEqual(c, { entry: ENTRY_BYTES, heapByte: 1 }, `${m}`);
    }
    // The default budget: a path byte costs 7 B, an entry ~750 B (16.7 M entries, 1.75 GiB).
    const { maxFiles, heapBytes } = fileTableReserveFor(12.6e9);
    const c = fileTableCharges(maxFiles, heapBytes, 12.6e9);
    assert.ok(c.heapByte > 6.7 && c.heapByte < 6.8, `${c.heapByte}`);
    assert.ok(c.entry > 750 && c.entry < 752, `${c.entry}`);
  });

  it('page records: the records faults may use cost more than any budget', () => {
    for (const m of BUDGETS) {
      const { maxFiles } = fileTableReserveFor(m);
      const records = pageRecordsFor(m, maxFiles + 1);
      const block = recordBlockPages(records, m);
      // PagePool.canFault charges whole blocks of RECORDS_PER_PAGE records: the blocks that
      // cover every record a fault may take (record 0 is never used).
      const usable = records - FAULT_RESERVE - 1;
      const full = Math.floor(usable / RECORDS_PER_PAGE) * block;
      assert.ok(full > limitPages(m), `${m}: ${full} pages <= ${limitPages(m)}`);
      if (m <= 2 * GIB) assert.equal(block, 1, `${m}: 32 B a record`);
    }
    const records = pageRecordsFor(12.6e9, fileTableReserveFor(12.6e9).maxFiles + 1);
    assert.equal(
      (recordBlockPages(records, 12.6e9) * PAGE_BYTES) / RECORDS_PER_PAGE,
      3 * RECORD_BYTES,
    );
  });

  it('charges the entry size without a budget', () => {
    assert.equal(chargePerEntry(96, 10, undefined), 96);
    assert.equal(chargePerEntry(96, 10, Number.POSITIVE_INFINITY), 96);
  });
});

/**
 * The global file table and the memory budget (issue 11: no shared table a client can fill for
 * others): the table reserves entries, hash and path heap for what the budget could pay for, and
 * charges the pages its high-water marks reach (entry ids handed out, the heap's front, the hash
 * slots in use), so a client meets --max-memory (ENOMEM, nothing changed), not the table.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PAGE_BYTES } from '../../src/mm/arena-layout.js';
import { ENOMEM } from '../../src/mm/errno.js';
import { HEAP_MAX_BLOCK } from '../../src/mm/file-heap.js';
import { FileTable } from '../../src/mm/file-table.js';
import {
  ENTRY_BYTES,
  fileTableReserveFor,
  MAX_FILE_ENTRIES,
  MAX_FILE_HEAP_BYTES,
} from '../../src/mm/file-table-layout.js';
import { MemoryBudget } from '../../src/mm/memory-budget.js';

const file = (i: number, pad = 0) => ({
  path: `/data/${'x'.repeat(pad)}f${i}`,
  devMajor: 8,
  devMinor: 1,
  inode: i + 1,
});

/** Interns distinct files until the table answers an error; their ids. */
function fill(t: FileTable, pad = 0, from = 0): { ids: number[]; error: number } {
  const ids: number[] = [];
  for (let i = from; ; i++) {
    const id = t.intern(file(i, pad));
    if (id < 0) return { ids, error: id };
    ids.push(id);
  }
}

describe('FileTable charged to the memory budget', () => {
  it('a reserve of 16 Mi entries and 1.75 GiB of heap costs no page and no charge until used', () => {
    const budget = MemoryBudget.create(1 << 30);
    const rss0 = process.memoryUsage().rss;
    const t = FileTable.create(MAX_FILE_ENTRIES, MAX_FILE_HEAP_BYTES, budget);
    const rss1 = process.memoryUsage().rss;
    console.log(
      `# RSS of a fresh ${t.buffer.byteLength / 2 ** 20} MiB table: +${(rss1 - rss0) / 1024} KiB`,
    );
    assert.ok(t.buffer.byteLength > 2 ** 31, 'the whole reserve');
    // The heap used to be formatted whole (a free-list link in every 8 KiB block: half its pages).
    assert.ok(rss1 - rss0 < 16 << 20, `${(rss1 - rss0) / 2 ** 20} MiB resident for a reserve`);
    assert.equal(t.usage().chargedBytes, 0);
    assert.equal(budget.usedBytes, 0);
    const id = t.intern(file(1));
    assert.ok(id > 0);
    assert.equal(t.path(id), '/data/f1');
  });

  it('distinct paths: ENOMEM at the budget, not at the capacity; reclaimed entries reused free', () => {
    const budget = MemoryBudget.create(16 * PAGE_BYTES);
    const t = FileTable.create(100_000, 1 << 24, budget);
    const { ids, error } = fill(t);
    assert.equal(error, -ENOMEM);
    assert.ok(ids.length > 300, `${ids.length} files in 16 pages`);
    assert.ok(ids.length < t.capacity / 10, 'refused far below the table’s capacity');
    assert.equal(budget.usedBytes, t.usage().chargedBytes, 'every charge is the table’s');
    assert.ok(budget.usedBytes <= budget.limitBytes);
    assert.ok(budget.refusals >= 1);
    // Nothing changed by the refusal: the live count is what was handed out.
    assert.equal(t.usage().live, ids.length);
    // A file already interned is found (a reference, no new entry) past the budget.
    assert.equal(t.intern(file(0)), ids[0]);
    t.put(ids[0]);
    // Entries given back are reused without a new charge.
    const charged = budget.usedBytes;
    for (const id of ids.splice(0, 10)) t.put(id);
    const again = fill(t, 0, 1_000_000);
    assert.equal(again.error, -ENOMEM);
    assert.equal(again.ids.length, 10, 'exactly the 10 freed entries');
    assert.equal(budget.usedBytes, charged);
  });

  it('long paths: the heap front is charged as it moves, ENOMEM past the budget', () => {
    const budget = MemoryBudget.create(64 * PAGE_BYTES);
    const t = FileTable.create(1000, 1 << 24, budget);
    // 4,000-byte paths take a 4 KiB block each: ~one heap page per file.
    const { ids, error } = fill(t, 4000);
    assert.equal(error, -ENOMEM);
    assert.ok(ids.length >= 40 && ids.length <= 64, `${ids.length} long paths in 64 pages`);
    assert.ok(t.usage().heapUsedBytes <= ids.length * 4096 + HEAP_MAX_BLOCK);
    assert.equal(budget.usedBytes, t.usage().chargedBytes);
    // A freed long path's entry and block are reused (split for short paths).
    const freed = ids.pop() as number;
    t.put(freed);
    const short = fill(t, 0, 5000);
    assert.ok(short.ids.includes(freed), 'the freed entry is reused');
    assert.ok(short.ids.length >= 2, `${short.ids.length}: the freed block holds many short paths`);
    assert.equal(budget.usedBytes, t.usage().chargedBytes);
    assert.ok(budget.usedBytes <= budget.limitBytes);
  });

  it('the hash doubles as entries come (charged) and keeps every identity findable', () => {
    const budget = MemoryBudget.create(1 << 30);
    const t = FileTable.create(100_000, 1 << 24, budget);
    const ids = Array.from({ length: 5000 }, (_, i) => t.intern(file(i)));
    assert.ok(ids.every((id) => id > 0));
    // 5,000 files: 5,000 entries (79 pages), hash of 16 Ki slots (16 pages), path blocks.
    const entryPages = Math.ceil((5001 * ENTRY_BYTES) / PAGE_BYTES);
    assert.ok(t.usage().chargedBytes >= (entryPages + 15) * PAGE_BYTES);
    assert.equal(budget.usedBytes, t.usage().chargedBytes);
    for (let i = 0; i < ids.length; i += 3) t.put(ids[i]);
    for (let i = 0; i < ids.length; i++) {
      if (i % 3 === 0) continue;
      assert.equal(t.intern(file(i)), ids[i], `identity ${i} still interned`);
    }
    // The other threads' views see the grown hash (its size is in shared memory).
    const other = FileTable.attach(t.buffer, budget);
    assert.equal(other.intern(file(4999)), ids[4999]);
    assert.ok(other.intern(file(10_000)) > 0);
    assert.equal(t.intern(file(10_000)), other.intern(file(10_000)));
  });

  it('the service reserves what the budget could pay for, within one buffer', () => {
    // A page more than the budget, and the heap's uncharged first block (table-charge.ts).
    assert.deepEqual(fileTableReserveFor(64 << 20), {
      maxFiles: ((64 << 20) + 4096) / ENTRY_BYTES,
      heapBytes: (64 << 20) + 4096 + 8192,
    });
    assert.deepEqual(fileTableReserveFor(1 << 20), { maxFiles: 65_535, heapBytes: 8 << 20 });
    assert.deepEqual(fileTableReserveFor(undefined), {
      maxFiles: MAX_FILE_ENTRIES,
      heapBytes: MAX_FILE_HEAP_BYTES,
    });
  });
});

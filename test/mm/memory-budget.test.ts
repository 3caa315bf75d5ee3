/**
 * The memory budget (--max-memory) at the arena level: the pages an arena's allocators charge are
 * exactly the pages they touched (committedBytes), a shared arena's growth past the limit fails
 * with ENOMEM and changes nothing, and a build is only counted until its creator admits it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { committedBytes, PAGE_BYTES } from '../../src/mm/arena-layout.js';
import { ENOMEM } from '../../src/mm/errno.js';
import { MemoryBudget } from '../../src/mm/memory-budget.js';
import { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { mmap, mprotect, munmap } from '../../src/mm/syscalls/index.js';
import { buildTemplate } from '../../src/mm/templates/index.js';

const MAP_PRIVATE_ANON_FIXED = 0x02 | 0x20 | 0x10;
const BASE = 0x1000_0000_0000;

function globalsWith(limit: number): MmGlobals {
  return MmGlobals.create({
    maxFiles: 64,
    fileHeapBytes: 1 << 16,
    anonNameSlots: 64,
    pageRecords: 1024,
    maxMemory: limit,
  });
}

describe('MemoryBudget', () => {
  it('charges whole pages, refuses past the limit (counted), releases', () => {
    const b = MemoryBudget.create(10 * PAGE_BYTES);
    assert.equal(b.tryCharge(1), true);
    assert.equal(b.usedBytes, PAGE_BYTES);
    assert.equal(b.tryCharge(9 * PAGE_BYTES), true);
    assert.equal(b.tryCharge(1), false);
    assert.equal(b.refusals, 1);
    assert.equal(b.usedBytes, 10 * PAGE_BYTES);
    b.charge(PAGE_BYTES);
    assert.equal(b.over, true);
    b.release(2 * PAGE_BYTES);
    assert.equal(b.over, false);
    assert.equal(MemoryBudget.attach(b.buffer).usedBytes, 9 * PAGE_BYTES);
  });
});

describe('arena pages charged to the budget', () => {
  it('charges exactly the pages the allocators touched, through churn', () => {
    const globals = globalsWith(1 << 30);
    const mm = buildTemplate('node', { globals, seed: 7 });
    assert.equal(globals.budget.usedBytes, 0, 'a build is only counted');
    assert.equal(mm.commit.chargedBytes, committedBytes(mm.views, mm.geometry));
    assert.ok(mm.commit.admit(0));
    assert.equal(globals.budget.usedBytes, mm.commit.chargedBytes);
    let seed = 1;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 3000; i++) {
      const addr = BASE + rnd(2000) * PAGE_BYTES;
      const len = (1 + rnd(4)) * PAGE_BYTES;
      const k = rnd(3);
      if (k === 0) mmap(mm, addr, len, 1 + rnd(3), MAP_PRIVATE_ANON_FIXED);
      else if (k === 1) munmap(mm, addr, len);
      else mprotect(mm, addr, len, rnd(4));
    }
    assert.ok(mm.mapCount > 200, `${mm.mapCount} VMAs`);
    assert.equal(mm.commit.chargedBytes, committedBytes(mm.views, mm.geometry));
    assert.equal(globals.budget.usedBytes, mm.commit.chargedBytes);
    mm.commit.releaseAll();
    assert.equal(globals.budget.usedBytes, 0);
  });

  it('a shared arena growing past the limit answers ENOMEM and changes nothing', () => {
    const globals = globalsWith(64 * PAGE_BYTES);
    const built = MmStruct.create({ globals });
    assert.ok(built.commit.admit(0));
    const mm = MmStruct.attach(built.buffer, globals); // a strict view, as engine threads have
    globals.budget.charge(globals.budget.limitBytes - globals.budget.usedBytes - 4 * PAGE_BYTES);
    let ret = 0;
    let i = 0;
    for (; i < 100_000; i++) {
      ret = mmap(mm, BASE + 2 * i * PAGE_BYTES, PAGE_BYTES, 1 + (i % 2), MAP_PRIVATE_ANON_FIXED);
      if (ret < 0) break;
    }
    assert.equal(ret, -ENOMEM, `mmap ${i} answered ${ret}`);
    assert.ok(i > 60, `${i} mmaps fit in 4 pages`);
    assert.equal(mm.mapCount, i, 'the refused mmap added no VMA');
    assert.equal(mm.index.check() > 0, true);
    assert.ok(globals.budget.usedBytes <= globals.budget.limitBytes);
    assert.ok(globals.budget.refusals > 0);
    // Freed room makes the same call succeed.
    globals.budget.release(8 * PAGE_BYTES);
    assert.ok(mmap(mm, BASE + 2 * i * PAGE_BYTES, PAGE_BYTES, 1, MAP_PRIVATE_ANON_FIXED) > 0);
  });

  it('admit refuses a build past the limit and charges nothing', () => {
    const globals = globalsWith(4 * PAGE_BYTES);
    const mm = buildTemplate('jvm', { globals, seed: 1 });
    assert.ok(mm.commit.chargedBytes > 4 * PAGE_BYTES);
    assert.equal(mm.commit.admit(0), false);
    assert.equal(globals.budget.usedBytes, 0);
    assert.equal(mm.commit.strict, false);
  });
});

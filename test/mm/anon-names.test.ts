import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnonNameTable } from '../../src/mm/anon-names.js';
import { EINVAL, ENOMEM } from '../../src/mm/errno.js';
import { MemoryBudget } from '../../src/mm/memory-budget.js';

describe('AnonNameTable', () => {
  it('charges its slots to the memory budget as first used: ENOMEM past it, freed slots reused', () => {
    const budget = MemoryBudget.create(3 * 4096); // 3 pages: the header's page and two more
    const t = AnonNameTable.create(1000, budget);
    const handles: number[] = [];
    for (let h = t.alloc('n'); h > 0; h = t.alloc('n')) handles.push(h);
    // 96-byte slots after a 64-byte header and the unused slot 0: 126 names fit in 3 pages.
    assert.equal(handles.length, Math.floor((3 * 4096 - 64) / 96) - 1);
    assert.equal(budget.usedBytes, 3 * 4096);
    assert.ok(budget.refusals >= 1);
    assert.equal(t.alloc('n'), -ENOMEM, 'refused past the budget, not at the capacity (1000)');
    t.put(handles.pop()!);
    assert.ok(t.alloc('again') > 0, 'a freed slot is reused without a new charge');
    assert.equal(budget.usedBytes, 3 * 4096);
  });

  it('allocates, reads back and compares names by content', () => {
    const t = AnonNameTable.create(8);
    const a = t.alloc('my buf');
    const b = t.alloc('my buf');
    const c = t.alloc('other');
    assert.ok(a > 0 && b > 0 && c > 0);
    assert.notEqual(a, b);
    assert.equal(t.get(a), 'my buf');
    assert.deepEqual([...t.nameBytes(c)], [...Buffer.from('other')]);
    assert.ok(t.equalContent(a, b));
    assert.ok(!t.equalContent(a, c));
    assert.ok(!t.equalContent(a, 0));
    assert.ok(t.equalContent(0, 0));
    assert.equal(t.get(0), null);
  });

  it('enforces ANON_VMA_NAME_MAX_LEN (80 incl. NUL) and capacity', () => {
    const t = AnonNameTable.create(2);
    assert.equal(t.alloc('x'.repeat(80)), -EINVAL);
    const ok = t.alloc('x'.repeat(79));
    assert.ok(ok > 0);
    assert.equal(t.get(ok), 'x'.repeat(79));
    assert.ok(t.alloc('y') > 0);
    assert.equal(t.alloc('z'), -ENOMEM);
  });

  it('frees at the last put immediately; a stale handle is detected after reuse', () => {
    const t = AnonNameTable.create(4);
    const h = t.alloc('first');
    t.ref(h);
    t.put(h);
    assert.ok(t.isLive(h));
    assert.equal(t.live, 1);
    t.put(h);
    assert.equal(t.isLive(h), false);
    assert.equal(t.live, 0);
    const h2 = t.alloc('second');
    assert.equal(AnonNameTable.slotOf(h2), AnonNameTable.slotOf(h), 'slot reused at once (LIFO)');
    assert.notEqual(h2, h, 'with a new generation');
    assert.equal(t.isLive(h), false);
    assert.ok(t.isLive(h2));
    // A speculative reader holding the stale handle reads the new content: that is the hazard.
    assert.equal(t.get(h), 'second');
    // A holder bug (put through the stale handle) must not free the new owner's name.
    assert.throws(() => t.put(h), /stale/);
    assert.equal(t.refcount(h2), 1);
  });

  it('is shared across attached views', () => {
    const t = AnonNameTable.create(4);
    const h = t.alloc('shared');
    const u = AnonNameTable.attach(t.buffer);
    assert.equal(u.get(h), 'shared');
    u.put(h);
    assert.equal(t.isLive(h), false);
  });

  it('names more than the old 20-bit handle held, and keeps a stale handle stale past 2,048 reuses', () => {
    const slots = (1 << 20) + 8; // past 1,048,575 (the old handle's slot field)
    const t = AnonNameTable.create(slots);
    let last = 0;
    for (let i = 0; i < slots; i++) last = t.alloc(`n${i}`);
    assert.ok(last > 0 && AnonNameTable.slotOf(last) === slots, `${last}`);
    assert.equal(t.get(last), `n${slots - 1}`);
    assert.ok(t.isLive(last));
    assert.equal(t.alloc('full'), -ENOMEM, 'the capacity still holds without a budget');
    // One slot freed and reused 2,048 times (the old 11-bit generation wrapped: the first handle
    // looked live again), then 2,049 times: the stale handle is never taken for the live name.
    const stale = last;
    let h = stale;
    for (let i = 0; i < 4096; i++) {
      t.put(h);
      h = t.alloc(`r${i}`);
      assert.equal(AnonNameTable.slotOf(h), slots);
      assert.equal(t.isLive(stale), false, `after ${i + 1} reuses`);
    }
    assert.ok(t.isLive(h));
  });

  it('charges a slot budget / capacity when the budget is larger than the table', () => {
    const budget = MemoryBudget.create(64 * 4096);
    const t = AnonNameTable.create(16, budget, 64 * 4096);
    assert.equal(t.slotCharge, (65 * 4096) / 16);
    const handles: number[] = [];
    for (let h = t.alloc('n'); h > 0; h = t.alloc('n')) handles.push(h);
    assert.ok(handles.length < 16, `${handles.length} names: the budget ran out first`);
    assert.ok(budget.usedBytes > 60 * 4096, `${budget.usedBytes} charged`);
    assert.equal(t.usage().chargedBytes, budget.usedBytes);
    assert.equal(t.usage().live, handles.length);
  });
});

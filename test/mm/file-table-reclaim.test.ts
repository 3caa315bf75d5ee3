/**
 * FileTable reference counts and reclaim after an RCU grace period (issue 11, finding 4): the
 * last put retires an entry, whose slot and path bytes are reused only once the grace period of
 * its retirement is over; the byte heap (a buddy allocator) gives every byte back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GracePeriods } from '../../src/mm/deferred-free.js';
import { ENOMEM } from '../../src/mm/errno.js';
import { FileHeap, HEAP_MAX_BLOCK, heapMarkBytes } from '../../src/mm/file-heap.js';
import { FileTable } from '../../src/mm/file-table.js';
import { RcuDomain } from '../../src/sync/rcu.js';

const file = (i: number) => ({ path: `/usr/lib/lib${i}.so`, devMajor: 8, devMinor: 1, inode: i });

/** Grace periods a test opens and closes by hand: stamps are counters, `over` the last done. */
function manualGrace(): GracePeriods & { stamp: number; over: number } {
  const g = {
    stamp: 0,
    over: 0,
    retireStamp: () => ++g.stamp,
    isGraceOver: (s: number) => s <= g.over,
  };
  return g;
}

describe('FileTable references', () => {
  it('counts references, retires at the last put, reuses the slot only after grace', () => {
    const t = FileTable.create(4, 8192);
    const g = manualGrace();
    const base = t.usage();
    const a = t.intern(file(1), g);
    assert.equal(t.intern(file(1), g), a, 'interned while referenced');
    assert.equal(t.refs(a), 2);
    const serial = t.serial(a);
    assert.equal(t.put(a, g), false);
    assert.equal(t.put(a, g), true, 'the last reference');
    assert.deepEqual([t.usage().live, t.usage().retired], [base.live, 1]);
    // Retired, not reclaimed: its bytes and fields stay for readers that may still hold it.
    assert.equal(t.path(a), '/usr/lib/lib1.so');
    // A new identity cannot take the slot before the grace period ends...
    const b = t.intern(file(2), g);
    assert.notEqual(b, a);
    assert.equal(t.path(a), '/usr/lib/lib1.so');
    // ...and interning the same identity again makes a new entry (the old one is unhashed).
    const a2 = t.intern(file(1), g);
    assert.notEqual(a2, a);
    g.over = g.stamp;
    assert.equal(t.reclaim(g), 1);
    const c = t.intern(file(3), g);
    assert.equal(c, a, 'the reclaimed slot is reused');
    assert.notEqual(t.serial(c), serial, 'with a new serial: caches keyed by serial miss');
    assert.equal(t.path(c), '/usr/lib/lib3.so');
    for (const id of [b, a2, c]) t.put(id, g);
    g.over = g.stamp;
    t.reclaim(g);
    assert.deepEqual(t.usage(), base, 'back to the baseline: entries and heap bytes');
  });

  it('a full table waits for grace: ENOMEM while readers may hold retired entries', () => {
    const t = FileTable.create(2, 8192);
    const g = manualGrace();
    const a = t.intern(file(1), g);
    const b = t.createShmem(g);
    assert.equal(t.intern(file(2), g), -ENOMEM);
    t.put(a, g);
    t.put(b, g);
    assert.equal(t.createShmem(g), -ENOMEM, 'nothing reused before the grace period ends');
    assert.equal(t.path(a), '/usr/lib/lib1.so');
    g.over = g.stamp;
    const c = t.createShmem(g);
    assert.ok(c > 0, 'reclaimed on demand once the grace period is over');
    assert.equal(t.path(c), '/dev/zero');
    assert.equal(t.isShmem(c), true);
  });

  it('with a real RCU domain, an open read section holds reclaim back', () => {
    const t = FileTable.create(1, 8192);
    const rcu = RcuDomain.create(4);
    const a = t.intern(file(1), rcu);
    rcu.readLock();
    t.put(a, rcu);
    assert.equal(t.intern(file(2), rcu), -ENOMEM, 'a reader entered before the put');
    assert.equal(t.path(a), '/usr/lib/lib1.so');
    rcu.readUnlock();
    const b = t.intern(file(2), rcu);
    assert.equal(b, a);
    assert.equal(t.path(b), '/usr/lib/lib2.so');
  });

  it('unhashing keeps every other identity findable (linear probing, backward shift)', () => {
    const t = FileTable.create(256, 1 << 16);
    const g = manualGrace();
    const ids = Array.from({ length: 200 }, (_, i) => t.intern(file(i), g));
    for (let i = 0; i < 200; i += 3) t.put(ids[i], g);
    for (let i = 0; i < 200; i++) {
      if (i % 3 === 0) continue;
      assert.equal(t.intern(file(i), g), ids[i], `identity ${i} still interned`);
    }
  });
});

describe('FileHeap (buddy allocator)', () => {
  it('gives every byte back: after random allocs and frees a whole heap is one block again', () => {
    const heapBytes = 8 * HEAP_MAX_BLOCK;
    const buf = new SharedArrayBuffer(64 + heapBytes + heapMarkBytes(heapBytes));
    const heap = new FileHeap(buf, 0, 64, heapBytes, 64 + heapBytes);
    heap.format();
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const live: [number, number][] = [];
    for (let step = 0; step < 5000; step++) {
      if (live.length > 0 && rnd(3) === 0) {
        const [at, n] = live.splice(rnd(live.length), 1)[0];
        heap.free(at, n);
        continue;
      }
      const n = 1 + rnd(rnd(2) === 0 ? 64 : 4200);
      const at = heap.alloc(n);
      if (at < 0) continue;
      for (const [o, m] of live) assert.ok(at + n <= o || o + m <= at, 'blocks never overlap');
      live.push([at, n]);
    }
    for (const [at, n] of live) heap.free(at, n);
    assert.equal(heap.usedBytes, 0);
    for (let i = 0; i < 8; i++) assert.ok(heap.alloc(HEAP_MAX_BLOCK) >= 0, 'coalesced');
    assert.equal(heap.alloc(1), -1);
  });
});

/**
 * Per-VMA locks and RCU grace periods on real worker threads (run from dist/: workers are .js).
 */
import assert from 'node:assert/strict';
import { afterEach, type TestContext, test } from 'node:test';
import {
  RCU_HEADER_WORDS,
  RCU_SLOT_HIGH_WATER,
  RCU_SLOT_OWNER,
  RCU_SLOT_STATE,
  RCU_SLOT_WORDS,
} from '../../src/sync/layout.js';
import { mmapWriteLock, mmapWriteUnlock } from '../../src/sync/mmap-lock.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import {
  VM_REFCNT_EXCLUDE_READERS_FLAG,
  VMA_FAIL,
  VMA_LOCKED,
  vmaEndRead,
  vmaLockInit,
  vmaMarkAttached,
  vmaRefcnt,
  vmaStartRead,
  vmaStartWrite,
} from '../../src/sync/vma-lock.js';
import {
  publish,
  releaseAbandonedWaiters,
  sharedWords,
  startWorker,
  untilAtLeast,
} from './harness.js';
import {
  ALIVE,
  CMD,
  CMD_RELEASE,
  DATA,
  MM,
  POOL,
  STATUS,
  status,
  TOTAL_WORDS,
  VMA_LOCK_SEQ,
  VMA_REFCNT,
} from './stress-layout.js';
import type { VmaRcuWorkerData } from './vma-rcu.worker.js';

/** A lock bug that leaves a thread waiting forever must fail the test, not hang the run. */
const STRESS_TIMEOUT = { timeout: 60_000 };
afterEach(releaseAbandonedWaiters);

function worker<T = unknown>(t: TestContext, data: VmaRcuWorkerData): Promise<T> {
  return startWorker<T>(t, 'vma-rcu.worker.js', data).result;
}

/** Words with one attached, unlocked VMA. */
function mmWithVma(): Int32Array {
  const w = sharedWords(TOTAL_WORDS);
  vmaLockInit(w, VMA_REFCNT, VMA_LOCK_SEQ);
  mmapWriteLock(w, MM);
  vmaStartWrite(w, MM, VMA_REFCNT, VMA_LOCK_SEQ);
  vmaMarkAttached(w, MM, VMA_REFCNT, VMA_LOCK_SEQ);
  mmapWriteUnlock(w, MM);
  return w;
}

test(
  'vm_refcnt never lets a writer in while a reader holds the VMA (stepped)',
  STRESS_TIMEOUT,
  async (t) => {
    const w = mmWithVma();
    const rounds = 100;
    const writer = worker(t, { role: 'vma-step-writer', words: w, iterations: rounds });
    for (let r = 1; r <= rounds; r++) {
      assert.equal(vmaStartRead(w, MM, VMA_REFCNT, VMA_LOCK_SEQ), VMA_LOCKED);
      publish(w, CMD, r); // the writer takes the mmap write lock and tries to write-lock the VMA
      assert.equal(
        await untilAtLeast(w, STATUS, status(r, 1)),
        status(r, 1),
        `round ${r}: the writer must wait while we hold the VMA`,
      );
      assert.equal(vmaRefcnt(w, VMA_REFCNT), VM_REFCNT_EXCLUDE_READERS_FLAG + 2);
      assert.equal(vmaStartRead(w, MM, VMA_REFCNT, VMA_LOCK_SEQ), VMA_FAIL, 'new readers excluded');
      vmaEndRead(w, VMA_REFCNT); // our reader leaves: the writer goes in
      await untilAtLeast(w, STATUS, status(r, 2));
      assert.equal(vmaStartRead(w, MM, VMA_REFCNT, VMA_LOCK_SEQ), VMA_FAIL, 'write-locked');
      assert.equal(vmaRefcnt(w, VMA_REFCNT), 1);
      publish(w, CMD_RELEASE, r); // mmapWriteUnlock releases the VMA write lock
      await untilAtLeast(w, STATUS, status(r, 3));
    }
    await writer;
  },
);

test(
  'per-VMA readers never overlap a VMA writer nor see its half-done changes',
  STRESS_TIMEOUT,
  async (t) => {
    const w = mmWithVma();
    const writes = 3000;
    type R = {
      reads: number;
      violations: number;
      torn: number;
      lockedFailed: number;
      locked: number;
      fallback: number;
      eagain: number;
    };
    const writer = worker<{ violations: number }>(t, {
      role: 'vma-writer',
      words: w,
      iterations: writes,
    });
    const readers = [1, 2].map(() =>
      worker<R>(t, { role: 'vma-reader', words: w, iterations: 500 }),
    );
    const [wr, ...rr] = await Promise.all([writer, ...readers]);
    assert.equal(wr.violations, 0, 'the writer found a reader inside');
    for (const r of rr) {
      assert.equal(r.violations, 0, 'a reader found the writer inside');
      assert.equal(r.torn, 0, 'a reader saw a half-written VMA');
      assert.equal(r.lockedFailed, 0, 'vma_start_read_locked failed under the mmap read lock');
      assert.ok(r.reads >= 500);
      assert.equal(r.locked + r.fallback, r.reads);
    }
    assert.equal(w[DATA], writes);
    assert.equal(vmaRefcnt(w, VMA_REFCNT), 1, 'attached and unlocked at the end');
  },
);

test(
  'a grace period is never over while a section that began before it is open (stepped)',
  STRESS_TIMEOUT,
  async (t) => {
    const w = sharedWords(TOTAL_WORDS);
    const rcu = RcuDomain.create(8);
    const rounds = 100;
    const reader = worker(t, {
      role: 'rcu-step-reader',
      words: w,
      iterations: rounds,
      rcu: rcu.buffer,
    });
    for (let r = 1; r <= rounds; r++) {
      const before = rcu.retireStamp();
      publish(w, CMD, r); // the reader opens a section
      await untilAtLeast(w, STATUS, status(r, 1));
      assert.equal(
        rcu.isGraceOver(before),
        true,
        'a section opened after the stamp does not block',
      );
      const stamp = rcu.retireStamp();
      assert.equal(rcu.isGraceOver(stamp), false, `round ${r}: the open section blocks the stamp`);
      let over = false;
      const sync = rcu.synchronizeAsync().then(() => {
        over = true;
      });
      await Promise.resolve();
      assert.equal(over, false);
      assert.equal(rcu.isGraceOver(stamp), false);
      publish(w, CMD_RELEASE, r); // the reader closes its section
      await sync;
      assert.equal(rcu.isGraceOver(stamp), true);
      await untilAtLeast(w, STATUS, status(r, 3));
    }
    await reader;
  },
);

test(
  'RCU readers never reach an object that was reclaimed (use-after-free detector)',
  STRESS_TIMEOUT,
  async (t) => {
    const w = sharedWords(TOTAL_WORDS);
    w[POOL] = ALIVE; // object 0 is published first, with value 0 in both words
    const rcu = RcuDomain.create(8);
    const publishes = 20000;
    type R = { reads: number; useAfterFree: number };
    const publisher = worker<{ reclaimed: number; synchronizes: number }>(t, {
      role: 'rcu-publisher',
      words: w,
      iterations: publishes,
      rcu: rcu.buffer,
    });
    const readers = [1, 2].map(() =>
      worker<R>(t, { role: 'rcu-reader', words: w, iterations: 1000, rcu: rcu.buffer }),
    );
    const [p, ...rr] = await Promise.all([publisher, ...readers]);
    for (const r of rr) {
      assert.equal(r.useAfterFree, 0, 'a reader saw a reclaimed object');
      assert.ok(r.reads >= 1000);
    }
    // Eight objects for 20000 publishes: reuse (hence reclamation) is forced, not by chance.
    assert.ok(p.reclaimed >= publishes - 8, `reclaimed ${p.reclaimed}`);
    // Three threads claimed slots (a slot freed early may be claimed again) and each freed its own
    // on the way out.
    const slots = new Int32Array(rcu.buffer);
    assert.ok(slots[RCU_SLOT_HIGH_WATER] >= 1 && slots[RCU_SLOT_HIGH_WATER] <= 3);
    for (let i = 0; i < 8; i++) {
      assert.equal(slots[RCU_HEADER_WORDS + i * RCU_SLOT_WORDS + RCU_SLOT_OWNER], 0, `slot ${i}`);
      assert.equal(slots[RCU_HEADER_WORDS + i * RCU_SLOT_WORDS + RCU_SLOT_STATE], 0, `slot ${i}`);
    }
  },
);

import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import {
  RCU_EPOCH,
  RCU_HEADER_WORDS,
  RCU_SLOT_HIGH_WATER,
  RCU_SLOT_OWNER,
  RCU_SLOT_STATE,
  RCU_SLOT_WORDS,
  rcuBufferBytes,
} from '../../src/sync/layout.js';
import { RcuDomain, rcuReadLock, rcuReadUnlock } from '../../src/sync/rcu.js';
import { releaseAbandonedWaiters } from './harness.js';

/** Word index of slot `i`'s state word. */

afterEach(releaseAbandonedWaiters);

const slotState = (i: number) => RCU_HEADER_WORDS + i * RCU_SLOT_WORDS + RCU_SLOT_STATE;
const slotOwner = (i: number) => RCU_HEADER_WORDS + i * RCU_SLOT_WORDS + RCU_SLOT_OWNER;

test('read sections nest; only the outermost unlock ends the section', () => {
  const rcu = RcuDomain.create(4);
  const w = new Int32Array(rcu.buffer);
  rcuReadLock(rcu);
  rcuReadLock(rcu);
  const stamp = rcu.retireStamp();
  rcuReadUnlock(rcu);
  assert.equal(rcu.inReadSection(), true);
  assert.equal(rcu.isGraceOver(stamp), false, 'the outer section still blocks');
  rcuReadUnlock(rcu);
  assert.equal(rcu.inReadSection(), false);
  assert.equal(rcu.isGraceOver(stamp), true);
  assert.equal(w[slotState(0)], 0, 'the slot is quiescent');
  assert.throws(() => rcuReadUnlock(rcu), /without readLock/);
});

test('a grace period waits only for sections that began before the stamp', () => {
  const rcu = RcuDomain.create(4);
  const before = rcu.retireStamp();
  rcu.readLock();
  assert.equal(rcu.isGraceOver(before), true, 'a section that began after the stamp is harmless');
  const during = rcu.retireStamp();
  assert.equal(rcu.isGraceOver(during), false);
  rcu.readUnlock();
  assert.equal(rcu.isGraceOver(during), true);
});

test('stamps advance by 2 and grace periods are judged across the 32-bit wrap', () => {
  const rcu = RcuDomain.create(2);
  const w = new Int32Array(rcu.buffer);
  const s1 = rcu.retireStamp();
  assert.equal(rcu.retireStamp(), s1 + 2);
  w[RCU_EPOCH] = 0x7ffffffe;
  rcu.readLock();
  assert.equal(w[slotState(0)], 0x7fffffff, 'the slot holds epoch + 1');
  const wrapped = rcu.retireStamp();
  assert.equal(wrapped, -(2 ** 31));
  assert.equal(rcu.isGraceOver(wrapped), false);
  rcu.readUnlock();
  assert.equal(rcu.isGraceOver(wrapped), true);
});

test("another thread's open section blocks the grace period and synchronizeAsync", async () => {
  const rcu = RcuDomain.create(4);
  const w = new Int32Array(rcu.buffer);
  rcu.register(); // slot 0 is ours
  // Slot 1: another thread inside a section that began at the current epoch.
  w[slotOwner(1)] = 1;
  w[RCU_SLOT_HIGH_WATER] = 2;
  Atomics.store(w, slotState(1), Atomics.load(w, RCU_EPOCH) + 1);
  const stamp = rcu.retireStamp();
  assert.equal(rcu.isGraceOver(stamp), false);
  let waits = 0;
  let over = false;
  const sync = rcu.synchronizeAsync({ beforeWait: () => void waits++ }).then((ns) => {
    over = true;
    return ns;
  });
  assert.equal(waits, 1);
  await Promise.resolve();
  assert.equal(over, false);
  Atomics.store(w, slotState(1), 0); // the other thread leaves (readUnlock: store, then notify)
  Atomics.notify(w, slotState(1));
  assert.ok((await sync) > 0);
  assert.equal(rcu.isGraceOver(stamp), true);
});

test('synchronize with no readers returns at once; inside a section it refuses', async () => {
  const rcu = RcuDomain.create(2);
  assert.equal(await rcu.synchronizeAsync(), 0);
  rcu.readLock();
  await assert.rejects(rcu.synchronizeAsync(), /deadlock/);
  assert.throws(() => rcu.synchronize(), /deadlock/);
  rcu.readUnlock();
});

test("attach returns this thread's one view; bad buffers are refused", () => {
  const rcu = RcuDomain.create(2);
  assert.equal(RcuDomain.attach(rcu.buffer), rcu);
  assert.throws(() => RcuDomain.attach(new SharedArrayBuffer(rcuBufferBytes(2))), RangeError);
  assert.throws(() => RcuDomain.create(0), RangeError);
});

test('registration claims a free slot, fails when all are taken, and unregister frees it', () => {
  const rcu = RcuDomain.create(1);
  const w = new Int32Array(rcu.buffer);
  w[slotOwner(0)] = 1; // another thread holds the only slot
  assert.throws(() => rcu.readLock(), /reader slots/);
  assert.equal(rcu.inReadSection(), false, 'a failed registration leaves no section open');
  w[slotOwner(0)] = 0;
  rcu.readLock();
  assert.throws(() => rcu.unregister(), /inside a read section/);
  rcu.readUnlock();
  rcu.unregister();
  assert.equal(w[slotOwner(0)], 0);
});

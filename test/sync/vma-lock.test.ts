import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { MM_SYNC_WORDS } from '../../src/sync/layout.js';
import {
  mmapReadLock,
  mmapReadUnlock,
  mmapWriteLock,
  mmapWriteUnlock,
} from '../../src/sync/mmap-lock.js';
import {
  VM_LOCK_SEQ_INIT,
  VM_REFCNT_EXCLUDE_READERS_FLAG,
  VM_REFCNT_LIMIT,
  VMA_EAGAIN,
  VMA_FAIL,
  VMA_LOCKED,
  vmaEndRead,
  vmaIsWriteLocked,
  vmaLockInit,
  vmaMarkAttached,
  vmaMarkDetached,
  vmaMarkDetachedAsync,
  vmaRefcnt,
  vmaStartRead,
  vmaStartReadLocked,
  vmaStartWrite,
  vmaStartWriteAsync,
} from '../../src/sync/vma-lock.js';
import { releaseAbandonedWaiters, sharedWords } from './harness.js';

afterEach(releaseAbandonedWaiters);

const MM = 0;
// Two VMA records after the mm block: refcnt, lock_seq, and an owner word for recycling checks.
const A = { refcnt: MM_SYNC_WORDS, seq: MM_SYNC_WORDS + 1, owner: MM_SYNC_WORDS + 2 };
const B = { refcnt: MM_SYNC_WORDS + 16, seq: MM_SYNC_WORDS + 17, owner: MM_SYNC_WORDS + 18 };

/** An mm with VMAs A and B allocated (detached), as the storage would set them up. */
function freshMm(): Int32Array {
  const w = sharedWords(MM_SYNC_WORDS + 32);
  vmaLockInit(w, A.refcnt, A.seq);
  vmaLockInit(w, B.refcnt, B.seq);
  return w;
}

/** Write-lock and attach VMAs under one mmap write lock, then release everything. */
function attach(w: Int32Array, ...vmas: (typeof A)[]): void {
  mmapWriteLock(w, MM);
  for (const v of vmas) {
    vmaStartWrite(w, MM, v.refcnt, v.seq);
    vmaMarkAttached(w, MM, v.refcnt, v.seq);
  }
  mmapWriteUnlock(w, MM);
}

test('a new VMA is detached and unlocked: readers get EAGAIN', () => {
  const w = freshMm();
  assert.equal(vmaRefcnt(w, A.refcnt), 0);
  assert.equal(w[A.seq], VM_LOCK_SEQ_INIT);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_EAGAIN);
  assert.equal(vmaRefcnt(w, A.refcnt), 0, 'a detached count is never raised');
  assert.equal(vmaStartReadLocked(w, A.refcnt), false);
});

test('attaching requires the mmap write lock and the VMA write lock', () => {
  const w = freshMm();
  assert.throws(() => vmaMarkAttached(w, MM, A.refcnt, A.seq), /mmap write lock/);
  mmapWriteLock(w, MM);
  assert.throws(() => vmaMarkAttached(w, MM, A.refcnt, A.seq), /not write-locked/);
  assert.equal(vmaStartWrite(w, MM, A.refcnt, A.seq), 0);
  vmaMarkAttached(w, MM, A.refcnt, A.seq);
  assert.throws(() => vmaMarkAttached(w, MM, A.refcnt, A.seq), /already attached/);
  assert.equal(vmaRefcnt(w, A.refcnt), 1);
  mmapWriteUnlock(w, MM);
});

test('readers share an attached VMA; each end_read drops one reference', () => {
  const w = freshMm();
  attach(w, A);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_LOCKED);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_LOCKED);
  assert.equal(vmaRefcnt(w, A.refcnt), 3);
  vmaEndRead(w, A.refcnt);
  vmaEndRead(w, A.refcnt);
  assert.equal(vmaRefcnt(w, A.refcnt), 1);
});

test('a write-locked VMA fails readers until mmapWriteUnlock releases all VMA write locks', () => {
  const w = freshMm();
  attach(w, A, B);
  mmapWriteLock(w, MM);
  assert.equal(vmaIsWriteLocked(w, MM, A.seq), false);
  vmaStartWrite(w, MM, A.refcnt, A.seq);
  vmaStartWrite(w, MM, B.refcnt, B.seq);
  assert.equal(vmaStartWrite(w, MM, A.refcnt, A.seq), 0, 'write-locking twice is a no-op');
  assert.equal(vmaIsWriteLocked(w, MM, A.seq), true);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_FAIL);
  assert.equal(vmaStartRead(w, MM, B.refcnt, B.seq), VMA_FAIL);
  assert.equal(vmaRefcnt(w, A.refcnt), 1, 'a failed reader leaves the count as it was');
  mmapWriteUnlock(w, MM);
  assert.equal(vmaIsWriteLocked(w, MM, A.seq), false);
  assert.equal(vmaIsWriteLocked(w, MM, B.seq), false);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_LOCKED);
  assert.equal(vmaStartRead(w, MM, B.refcnt, B.seq), VMA_LOCKED);
  // A VMA write-locked in an earlier write section is not write-locked in the next one.
  vmaEndRead(w, A.refcnt);
  vmaEndRead(w, B.refcnt);
  mmapWriteLock(w, MM);
  assert.equal(vmaIsWriteLocked(w, MM, A.seq), false);
  mmapWriteUnlock(w, MM);
});

test('a writer excludes new readers while it waits for the current one', async () => {
  const w = freshMm();
  attach(w, A);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_LOCKED);
  mmapWriteLock(w, MM);
  let waits = 0;
  let locked = false;
  const writer = vmaStartWriteAsync(w, MM, A.refcnt, A.seq, { beforeWait: () => void waits++ });
  void writer.then(() => {
    locked = true;
  });
  assert.equal(waits, 1);
  assert.equal(vmaRefcnt(w, A.refcnt), VM_REFCNT_EXCLUDE_READERS_FLAG + 2);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_FAIL, 'excluded, not detached');
  assert.equal(vmaRefcnt(w, A.refcnt), VM_REFCNT_EXCLUDE_READERS_FLAG + 2);
  assert.equal(vmaIsWriteLocked(w, MM, A.seq), false, 'not write-locked while readers remain');
  await Promise.resolve();
  assert.equal(locked, false);
  vmaEndRead(w, A.refcnt);
  const waited = await writer;
  assert.ok(waited > 0);
  assert.equal(vmaIsWriteLocked(w, MM, A.seq), true);
  assert.equal(vmaRefcnt(w, A.refcnt), 1);
  mmapWriteUnlock(w, MM);
});

test('the blocking vmaStartWrite refuses to wait on the main thread and undoes its flag', () => {
  const w = freshMm();
  attach(w, A);
  vmaStartRead(w, MM, A.refcnt, A.seq);
  mmapWriteLock(w, MM);
  assert.throws(() => vmaStartWrite(w, MM, A.refcnt, A.seq), /event loop/);
  assert.equal(vmaRefcnt(w, A.refcnt), 2);
  assert.equal(vmaIsWriteLocked(w, MM, A.seq), false);
  mmapWriteUnlock(w, MM);
  vmaEndRead(w, A.refcnt);
  assert.throws(() => vmaStartWrite(w, MM, A.refcnt, A.seq), /mmap write lock/);
});

test('readers never raise vm_refcnt past VM_REFCNT_LIMIT', () => {
  const w = freshMm();
  attach(w, A);
  w[A.refcnt] = VM_REFCNT_LIMIT - 1;
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_LOCKED);
  assert.equal(vmaRefcnt(w, A.refcnt), VM_REFCNT_LIMIT);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_FAIL, 'overflow is a FAIL, not EAGAIN');
  mmapReadLock(w, MM);
  assert.equal(vmaStartReadLocked(w, A.refcnt), false);
  mmapReadUnlock(w, MM);
  assert.equal(vmaRefcnt(w, A.refcnt), VM_REFCNT_LIMIT);
});

test('vmaStartReadLocked takes a VMA read lock under the mmap read lock', () => {
  const w = freshMm();
  attach(w, A);
  mmapReadLock(w, MM);
  assert.equal(vmaStartReadLocked(w, A.refcnt), true);
  mmapReadUnlock(w, MM);
  assert.equal(vmaRefcnt(w, A.refcnt), 2, 'the VMA lock outlives the mmap read lock');
  vmaEndRead(w, A.refcnt);
});

test('detaching makes the count 0 for good: later readers get EAGAIN', () => {
  const w = freshMm();
  attach(w, A);
  mmapWriteLock(w, MM);
  assert.throws(() => vmaMarkDetached(w, MM, A.refcnt, A.seq), /not write-locked/);
  vmaStartWrite(w, MM, A.refcnt, A.seq);
  assert.equal(vmaMarkDetached(w, MM, A.refcnt, A.seq), 0);
  assert.equal(vmaRefcnt(w, A.refcnt), 0);
  assert.throws(() => vmaMarkDetached(w, MM, A.refcnt, A.seq), /not attached/);
  assert.equal(vmaRefcnt(w, A.refcnt), 0);
  mmapWriteUnlock(w, MM);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_EAGAIN);
});

test('detaching waits for a reader that raised the count before seeing the write lock', async () => {
  const w = freshMm();
  attach(w, A);
  mmapWriteLock(w, MM);
  vmaStartWrite(w, MM, A.refcnt, A.seq);
  Atomics.add(w, A.refcnt, 1); // a reader between its increment and its vm_lock_seq re-check
  let done = false;
  const detach = vmaMarkDetachedAsync(w, MM, A.refcnt, A.seq).then(() => {
    done = true;
  });
  assert.equal(vmaRefcnt(w, A.refcnt), VM_REFCNT_EXCLUDE_READERS_FLAG + 1);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_FAIL);
  await Promise.resolve();
  assert.equal(done, false);
  vmaEndRead(w, A.refcnt); // the stray reader backs out and wakes the detacher
  await detach;
  assert.equal(vmaRefcnt(w, A.refcnt), 0);
  mmapWriteUnlock(w, MM);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_EAGAIN);
});

test('a detached VMA can be re-attached under a later write lock', () => {
  const w = freshMm();
  attach(w, A);
  mmapWriteLock(w, MM);
  vmaStartWrite(w, MM, A.refcnt, A.seq);
  vmaMarkDetached(w, MM, A.refcnt, A.seq);
  mmapWriteUnlock(w, MM);
  attach(w, A);
  assert.equal(vmaStartRead(w, MM, A.refcnt, A.seq), VMA_LOCKED);
  vmaEndRead(w, A.refcnt);
});

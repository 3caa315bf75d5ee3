import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { MM_LOCK_SEQ, MM_SYNC_WORDS, MMAP_LOCK_STATE } from '../../src/sync/layout.js';
import {
  mmapLockIsContended,
  mmapLockState,
  mmapReadLock,
  mmapReadLockAsync,
  mmapReadTrylock,
  mmapReadUnlock,
  mmapWriteDowngrade,
  mmapWriteLock,
  mmapWriteLockAsync,
  mmapWriteTrylock,
  mmapWriteUnlock,
} from '../../src/sync/mmap-lock.js';
import { pendingAsyncWaitCount, type WaitObserver } from '../../src/sync/wait.js';
import { releaseAbandonedWaiters, sharedWords } from './harness.js';

afterEach(releaseAbandonedWaiters);

const MM = 16;

function freshMm(): Int32Array {
  return sharedWords(MM + MM_SYNC_WORDS);
}

function countingObserver(): WaitObserver & { waits: number } {
  return {
    waits: 0,
    beforeWait() {
      this.waits++;
    },
  };
}

const idle = {
  readers: 0,
  blockedReaders: 0,
  waitingWriters: 0,
  writerHeld: false,
};

test('readers share the lock; uncontended locks report zero wait', () => {
  const w = freshMm();
  assert.equal(mmapReadLock(w, MM), 0);
  assert.equal(mmapReadLock(w, MM), 0);
  assert.equal(mmapReadTrylock(w, MM), true);
  assert.deepEqual(mmapLockState(w, MM), { ...idle, readers: 3 });
  assert.equal(mmapWriteTrylock(w, MM), false, 'readers exclude a writer');
  for (let i = 0; i < 3; i++) mmapReadUnlock(w, MM);
  assert.deepEqual(mmapLockState(w, MM), idle);
  assert.equal(w[MM + MM_LOCK_SEQ], 0, 'readers do not move the sequence');
});

test('the write lock is exclusive and makes mm_lock_seq odd until unlock', () => {
  const w = freshMm();
  assert.equal(mmapWriteLock(w, MM), 0);
  assert.equal(w[MM + MM_LOCK_SEQ], 1);
  assert.deepEqual(mmapLockState(w, MM), { ...idle, writerHeld: true });
  assert.equal(mmapReadTrylock(w, MM), false);
  assert.equal(mmapWriteTrylock(w, MM), false);
  mmapWriteUnlock(w, MM);
  assert.equal(w[MM + MM_LOCK_SEQ], 2);
  assert.deepEqual(mmapLockState(w, MM), idle);
  assert.equal(mmapWriteTrylock(w, MM), true);
  assert.equal(w[MM + MM_LOCK_SEQ], 3);
  mmapWriteUnlock(w, MM);
});

test('downgrade turns the writer into a reader with the sequence even', () => {
  const w = freshMm();
  mmapWriteLock(w, MM);
  mmapWriteDowngrade(w, MM);
  assert.equal(w[MM + MM_LOCK_SEQ], 2);
  assert.deepEqual(mmapLockState(w, MM), { ...idle, readers: 1 });
  assert.equal(mmapReadTrylock(w, MM), true, 'other readers may join');
  assert.equal(mmapWriteTrylock(w, MM), false);
  mmapReadUnlock(w, MM);
  mmapReadUnlock(w, MM);
  assert.deepEqual(mmapLockState(w, MM), idle);
});

test('unlocking a lock that is not held throws and changes nothing', () => {
  const w = freshMm();
  assert.throws(() => mmapReadUnlock(w, MM), /not held/);
  assert.throws(() => mmapWriteUnlock(w, MM), /not held/);
  assert.throws(() => mmapWriteDowngrade(w, MM), /not held/);
  assert.equal(w[MM + MMAP_LOCK_STATE], 0);
  assert.equal(w[MM + MM_LOCK_SEQ], 0);
  mmapReadLock(w, MM);
  assert.throws(() => mmapWriteUnlock(w, MM), /not held/);
  assert.deepEqual(mmapLockState(w, MM), { ...idle, readers: 1 });
});

test('the blocking variants refuse to wait on the main thread and leave the lock untouched', () => {
  const w = freshMm();
  mmapWriteLock(w, MM);
  const before = w[MM + MMAP_LOCK_STATE];
  assert.throws(() => mmapReadLock(w, MM), /event loop/);
  assert.throws(() => mmapWriteLock(w, MM), /event loop/);
  assert.equal(w[MM + MMAP_LOCK_STATE], before);
  mmapWriteUnlock(w, MM);
  assert.deepEqual(mmapLockState(w, MM), idle);
});

test('a waiting writer holds back new readers until it has had the lock', async () => {
  const w = freshMm();
  const order: string[] = [];
  mmapReadLock(w, MM); // reader A
  const writerObs = countingObserver();
  const writer = mmapWriteLockAsync(w, MM, writerObs).then((ns) => {
    order.push('writer');
    assert.ok(ns > 0, 'a contended lock reports its wait');
    assert.equal(mmapLockState(w, MM).blockedReaders, 1, 'reader B is still queued');
    mmapWriteUnlock(w, MM);
  });
  // The async lock queues synchronously, before its first await.
  assert.equal(writerObs.waits, 1);
  assert.deepEqual(mmapLockState(w, MM), { ...idle, readers: 1, waitingWriters: 1 });
  assert.equal(mmapLockIsContended(w, MM), true);
  assert.equal(mmapReadTrylock(w, MM), false, 'trylock fails behind a queued writer');
  const readerObs = countingObserver();
  const readerB = mmapReadLockAsync(w, MM, readerObs).then(() => {
    order.push('reader B');
    assert.equal(mmapLockState(w, MM).writerHeld, false);
  });
  assert.equal(readerObs.waits, 1);
  assert.deepEqual(mmapLockState(w, MM), {
    ...idle,
    readers: 1,
    blockedReaders: 1,
    waitingWriters: 1,
  });
  mmapReadUnlock(w, MM); // reader A leaves: the writer goes first
  await Promise.all([writer, readerB]);
  assert.deepEqual(order, ['writer', 'reader B']);
  mmapReadUnlock(w, MM);
  assert.deepEqual(mmapLockState(w, MM), idle);
});

test('a releasing writer hands the lock to the readers queued behind it (phase-fair)', async () => {
  const w = freshMm();
  const order: string[] = [];
  mmapWriteLock(w, MM); // writer 1 holds
  const reader = mmapReadLockAsync(w, MM).then(() => {
    order.push('reader');
    mmapReadUnlock(w, MM);
  });
  const writer2 = mmapWriteLockAsync(w, MM).then(() => {
    order.push('writer 2');
    mmapWriteUnlock(w, MM);
  });
  assert.deepEqual(mmapLockState(w, MM), {
    ...idle,
    blockedReaders: 1,
    waitingWriters: 1,
    writerHeld: true,
  });
  mmapWriteUnlock(w, MM);
  // The queued reader holds the lock the moment writer 1 releases it, before it even wakes.
  assert.deepEqual(mmapLockState(w, MM), { ...idle, readers: 1, waitingWriters: 1 });
  assert.equal(mmapWriteTrylock(w, MM), false, 'writer 2 cannot overtake the granted reader');
  assert.equal(mmapReadTrylock(w, MM), false, 'new readers still queue behind writer 2');
  await Promise.all([reader, writer2]);
  assert.deepEqual(order, ['reader', 'writer 2']);
  assert.deepEqual(mmapLockState(w, MM), idle);
  assert.equal(w[MM + MM_LOCK_SEQ], 4);
});

test('readers queued on the event loop cannot be starved by readers that keep entering', async () => {
  // The hand-off is what makes this terminate: a granted reader holds the lock even while the
  // thread is busy with other tasks, and a queued writer keeps newcomers out meanwhile.
  const w = freshMm();
  mmapWriteLock(w, MM);
  const queued = mmapReadLockAsync(w, MM);
  const writer2 = mmapWriteLockAsync(w, MM);
  mmapWriteUnlock(w, MM);
  let spins = 0;
  while (mmapReadTrylock(w, MM)) {
    mmapReadUnlock(w, MM);
    if (++spins > 10) break;
  }
  assert.equal(spins, 0, 'no reader slips in ahead of the queued writer');
  await queued;
  mmapReadUnlock(w, MM);
  await writer2;
  mmapWriteUnlock(w, MM);
  assert.deepEqual(mmapLockState(w, MM), idle);
});

test('a downgrade hands the lock to queued readers but not to queued writers', async () => {
  const w = freshMm();
  mmapWriteLock(w, MM);
  let readerIn = false;
  const reader = mmapReadLockAsync(w, MM).then(() => {
    readerIn = true;
  });
  let writerIn = false;
  const writer = mmapWriteLockAsync(w, MM).then(() => {
    writerIn = true;
  });
  mmapWriteDowngrade(w, MM);
  assert.equal(mmapLockState(w, MM).readers, 2, 'the queued reader holds the lock at once');
  await reader;
  assert.equal(readerIn, true);
  assert.equal(writerIn, false);
  assert.equal(mmapLockState(w, MM).readers, 2);
  mmapReadUnlock(w, MM);
  mmapReadUnlock(w, MM);
  await writer;
  assert.equal(writerIn, true);
  mmapWriteUnlock(w, MM);
  assert.deepEqual(mmapLockState(w, MM), idle);
});

test('a pending async wait keeps the event loop alive, and only while pending', async () => {
  const w = freshMm();
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  mmapWriteLock(w, MM);
  const reader = mmapReadLockAsync(w, MM);
  assert.equal(pendingAsyncWaitCount(), 1);
  assert.equal(timers(), before + 1, 'one ref-ed timer holds the loop');
  mmapWriteUnlock(w, MM);
  await reader;
  assert.equal(pendingAsyncWaitCount(), 0);
  assert.equal(timers(), before);
  mmapReadUnlock(w, MM);
});

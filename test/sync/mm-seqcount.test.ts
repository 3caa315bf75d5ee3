import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MM_LOCK_SEQ, MM_SYNC_WORDS } from '../../src/sync/layout.js';
import {
  mmWriteLockHeld,
  SPECULATE_FAILED,
  speculateRetry,
  speculateTryBegin,
} from '../../src/sync/mm-seqcount.js';
import {
  mmapReadLock,
  mmapReadUnlock,
  mmapWriteDowngrade,
  mmapWriteLock,
  mmapWriteUnlock,
} from '../../src/sync/mmap-lock.js';
import { sharedWords } from './harness.js';

const MM = 16; // a non-zero, cache-line-aligned base, as inside an arena

function freshMm(): Int32Array {
  return sharedWords(MM + MM_SYNC_WORDS);
}

test('speculateTryBegin records the even sequence; a writer makes it fail', () => {
  const w = freshMm();
  assert.equal(speculateTryBegin(w, MM), 0);
  mmapWriteLock(w, MM);
  assert.equal(mmWriteLockHeld(w, MM), true);
  assert.equal(speculateTryBegin(w, MM), SPECULATE_FAILED);
  mmapWriteUnlock(w, MM);
  assert.equal(mmWriteLockHeld(w, MM), false);
  assert.equal(speculateTryBegin(w, MM), 2);
});

test('speculateRetry is false with no write, true after any write lock/unlock', () => {
  const w = freshMm();
  const seq = speculateTryBegin(w, MM);
  assert.equal(speculateRetry(w, MM, seq), false);
  mmapReadLock(w, MM); // readers do not disturb speculation
  mmapReadUnlock(w, MM);
  assert.equal(speculateRetry(w, MM, seq), false);
  mmapWriteLock(w, MM);
  assert.equal(speculateRetry(w, MM, seq), true, 'a held write lock is detected');
  mmapWriteUnlock(w, MM);
  assert.equal(speculateRetry(w, MM, seq), true, 'a completed write is detected');
  assert.equal(speculateRetry(w, MM, SPECULATE_FAILED), true);
});

test('speculation always succeeds under the mmap read lock, and a downgrade ends the write', () => {
  const w = freshMm();
  mmapWriteLock(w, MM);
  mmapWriteDowngrade(w, MM);
  const seq = speculateTryBegin(w, MM);
  assert.notEqual(seq, SPECULATE_FAILED);
  assert.equal(seq % 2, 0);
  assert.equal(speculateRetry(w, MM, seq), false);
  mmapReadUnlock(w, MM);
});

test('readers never write the sequence word', () => {
  const w = freshMm();
  w[MM + MM_LOCK_SEQ] = 40;
  for (let i = 0; i < 1000; i++) speculateRetry(w, MM, speculateTryBegin(w, MM));
  assert.equal(w[MM + MM_LOCK_SEQ], 40);
});

test('the sequence is an unsigned 32-bit count that wraps', () => {
  const w = freshMm();
  w[MM + MM_LOCK_SEQ] = 0x7ffffffe;
  const before = speculateTryBegin(w, MM);
  assert.equal(before, 0x7ffffffe);
  mmapWriteLock(w, MM);
  assert.equal(speculateTryBegin(w, MM), SPECULATE_FAILED);
  mmapWriteUnlock(w, MM);
  assert.equal(speculateTryBegin(w, MM), 2 ** 31);
  assert.equal(speculateRetry(w, MM, before), true);

  w[MM + MM_LOCK_SEQ] = -2; // 0xfffffffe
  assert.equal(speculateTryBegin(w, MM), 2 ** 32 - 2);
  mmapWriteLock(w, MM);
  mmapWriteUnlock(w, MM);
  assert.equal(speculateTryBegin(w, MM), 0);
  assert.equal(speculateRetry(w, MM, 2 ** 32 - 2), true);
});

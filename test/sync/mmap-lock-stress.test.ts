/**
 * The mmap_lock and the mm seqcount on real worker threads (run from dist/: the workers are .js).
 * Deterministic pass/fail: stepped rounds prove ordering without timing; free-running loops prove
 * that whatever interleaving happens, no reader ever sees a torn write.
 */
import assert from 'node:assert/strict';
import { afterEach, type TestContext, test } from 'node:test';
import { SPECULATE_FAILED, speculateRetry, speculateTryBegin } from '../../src/sync/mm-seqcount.js';
import {
  mmapLockState,
  mmapReadLockAsync,
  mmapReadUnlock,
  mmapWriteLockAsync,
  mmapWriteUnlock,
} from '../../src/sync/mmap-lock.js';
import {
  publish,
  releaseAbandonedWaiters,
  sharedWords,
  startWorker,
  untilAtLeast,
} from './harness.js';
import type { MmapWorkerData } from './mmap-lock.worker.js';
import {
  CMD,
  CMD_RELEASE,
  DATA,
  DATA_WORDS,
  CACHE_LINE as L,
  MM,
  READERS_IN,
  SEEN,
  STATUS,
  status,
  TOTAL_WORDS,
  WRITER_DONE,
  WRITERS_IN,
} from './stress-layout.js';

/** A lock bug that leaves a thread waiting forever must fail the test, not hang the run. */
const STRESS_TIMEOUT = { timeout: 60_000 };
afterEach(releaseAbandonedWaiters);

function worker<T = unknown>(t: TestContext, data: MmapWorkerData): Promise<T> {
  return startWorker<T>(t, 'mmap-lock.worker.js', data).result;
}

test(
  'mutual exclusion: readers never see a writer inside nor a half-written record',
  STRESS_TIMEOUT,
  async (t) => {
    const words = sharedWords(TOTAL_WORDS);
    const writes = 3000;
    type R = { violations: number; torn: number; seqOdd: number; reads: number };
    const w = worker<{ violations: number; writes: number }>(t, {
      role: 'exclusion-writer',
      words,
      iterations: writes,
    });
    const readers = [1, 2].map(() =>
      worker<R>(t, { role: 'exclusion-reader', words, iterations: 500 }),
    );
    const [wr, ...rr] = await Promise.all([w, ...readers]);
    assert.equal(wr.violations, 0, 'the writer found nobody else inside');
    assert.equal(wr.writes, writes);
    for (const r of rr) {
      assert.equal(r.violations, 0, 'no writer inside while a reader held the lock');
      assert.equal(r.torn, 0, 'no half-written record under the read lock');
      assert.equal(r.seqOdd, 0, 'mm_lock_seq is even whenever a reader holds the lock');
      assert.ok(r.reads >= 500);
    }
    assert.equal(words[DATA], writes, 'every write landed');
  },
);

test(
  'writer preference: a reader arriving after a queued writer enters only after it',
  STRESS_TIMEOUT,
  async (t) => {
    const words = sharedWords(TOTAL_WORDS);
    const rounds = 100;
    const holderStatus = STATUS;
    const writerStatus = STATUS + L;
    const lateStatus = STATUS + 2 * L;
    const holder = worker(t, {
      role: 'preference-holder',
      words,
      iterations: rounds,
      statusWord: holderStatus,
    });
    const writer = worker(t, {
      role: 'preference-writer',
      words,
      iterations: rounds,
      statusWord: writerStatus,
    });
    const late = worker(t, {
      role: 'preference-late-reader',
      words,
      iterations: rounds,
      statusWord: lateStatus,
    });
    for (let r = 1; r <= rounds; r++) {
      publish(words, CMD, status(r, 1)); // holder takes the read lock
      await untilAtLeast(words, holderStatus, status(r, 1));
      publish(words, CMD, status(r, 2)); // writer queues behind the holder
      assert.equal(await untilAtLeast(words, writerStatus, status(r, 1)), status(r, 1));
      publish(words, CMD, status(r, 3)); // a reader arrives after the writer queued
      assert.equal(
        await untilAtLeast(words, lateStatus, status(r, 1)),
        status(r, 1),
        `round ${r}: the late reader must queue, not enter`,
      );
      assert.deepEqual(mmapLockState(words, MM), {
        readers: 1,
        blockedReaders: 1,
        waitingWriters: 1,
        writerHeld: false,
      });
      publish(words, CMD_RELEASE, r); // the holder leaves
      await untilAtLeast(words, lateStatus, status(r, 3));
      await untilAtLeast(words, writerStatus, status(r, 3));
      assert.equal(words[SEEN], r, `round ${r}: the late reader saw the writer's change`);
    }
    await Promise.all([holder, writer, late]);
  },
);

test(
  'a releasing writer hands the lock to the reader queued behind it before re-taking it',
  STRESS_TIMEOUT,
  async (t) => {
    const words = sharedWords(TOTAL_WORDS);
    const rounds = 100;
    const writerStatus = STATUS;
    const readerStatus = STATUS + L;
    const writer = worker(t, {
      role: 'handoff-writer',
      words,
      iterations: rounds,
      statusWord: writerStatus,
      peerStatusWord: readerStatus,
    });
    const reader = worker(t, {
      role: 'handoff-reader',
      words,
      iterations: rounds,
      statusWord: readerStatus,
      peerStatusWord: writerStatus,
    });
    for (let r = 1; r <= rounds; r++) {
      publish(words, CMD, status(r, 1));
      await untilAtLeast(words, readerStatus, status(r, 3));
      await untilAtLeast(words, writerStatus, status(r, 3));
      assert.equal(
        words[SEEN],
        r,
        `round ${r}: the writer re-took the lock ahead of the queued reader`,
      );
    }
    await Promise.all([writer, reader]);
  },
);

test('the seqcount detects every write-lock and every write-unlock', STRESS_TIMEOUT, async (t) => {
  const words = sharedWords(TOTAL_WORDS);
  const rounds = 200;
  const w = worker(t, { role: 'seq-step-writer', words, iterations: rounds });
  for (let r = 1; r <= rounds; r++) {
    const seq = speculateTryBegin(words, MM);
    assert.notEqual(seq, SPECULATE_FAILED);
    assert.equal(speculateRetry(words, MM, seq), false);
    publish(words, CMD, 2 * r - 1); // the writer locks and writes
    await untilAtLeast(words, STATUS, 2 * r - 1);
    assert.equal(speculateTryBegin(words, MM), SPECULATE_FAILED);
    assert.equal(speculateRetry(words, MM, seq), true, `round ${r}: write in progress detected`);
    publish(words, CMD, 2 * r); // the writer unlocks
    await untilAtLeast(words, STATUS, 2 * r);
    const after = speculateTryBegin(words, MM);
    assert.equal(after, seq + 2);
    assert.equal(speculateRetry(words, MM, seq), true, `round ${r}: finished write detected`);
    assert.equal(speculateRetry(words, MM, after), false);
  }
  await w;
});

test(
  'speculative readers never accept a torn write from a free-running writer',
  STRESS_TIMEOUT,
  async (t) => {
    const words = sharedWords(TOTAL_WORDS);
    const writes = 20000;
    const w = worker(t, { role: 'seq-free-writer', words, iterations: writes });
    type R = { accepted: number; retries: number; torn: number; backwards: number };
    const r = worker<R>(t, { role: 'seq-free-reader', words, iterations: 1000 });
    const [, rr] = await Promise.all([w, r]);
    assert.equal(rr.torn, 0, 'an accepted read was torn');
    assert.equal(rr.backwards, 0, 'an accepted read went back in time');
    assert.ok(rr.accepted >= 1000);
    assert.equal(words[DATA], writes);
  },
);

test(
  'async lockers on the event loop, holding the lock across awaits, exclude worker threads',
  STRESS_TIMEOUT,
  async (t) => {
    const words = sharedWords(TOTAL_WORDS);
    type R = { violations: number; torn: number; reads: number };
    const writer = worker<{ violations: number }>(t, {
      role: 'exclusion-writer',
      words,
      iterations: 2000,
    });
    const reader = worker<R>(t, { role: 'exclusion-reader', words, iterations: 200 });
    const problems: string[] = [];
    const asyncReader = async () => {
      let reads = 0;
      // Bounded: a broken lock that never holds these readers back must fail, not spin forever.
      while ((Atomics.load(words, WRITER_DONE) === 0 || reads < 20) && reads < 50_000) {
        await mmapReadLockAsync(words, MM);
        Atomics.add(words, READERS_IN, 1);
        if (Atomics.load(words, WRITERS_IN) !== 0) problems.push('reader overlapped a writer');
        const v = words[DATA];
        await Promise.resolve(); // other tasks run while this one holds the read lock
        for (let j = 1; j < DATA_WORDS; j++) if (words[DATA + j] !== v) problems.push('torn read');
        Atomics.sub(words, READERS_IN, 1);
        mmapReadUnlock(words, MM);
        reads++;
      }
    };
    const asyncWriter = async (id: number) => {
      for (let k = 1; k <= 100; k++) {
        await mmapWriteLockAsync(words, MM);
        if (Atomics.add(words, WRITERS_IN, 1) !== 0 || Atomics.load(words, READERS_IN) !== 0) {
          problems.push('writer not alone');
        }
        for (let j = 0; j < DATA_WORDS; j++) {
          words[DATA + j] = -(id * 1000 + k); // distinct from the worker's values
          await Promise.resolve(); // half-written while other tasks and threads run
        }
        Atomics.sub(words, WRITERS_IN, 1);
        mmapWriteUnlock(words, MM);
      }
    };
    const tasks = [...Array.from({ length: 20 }, asyncReader), asyncWriter(1), asyncWriter(2)];
    const [wr, rr] = await Promise.all([writer, reader, Promise.all(tasks)]);
    assert.deepEqual(problems, []);
    assert.equal(words[WRITER_DONE], 1, 'the worker writer finished');
    assert.equal(wr.violations, 0);
    assert.equal(rr.violations, 0);
    assert.equal(rr.torn, 0);
    assert.deepEqual(mmapLockState(words, MM), {
      readers: 0,
      blockedReaders: 0,
      waitingWriters: 0,
      writerHeld: false,
    });
  },
);

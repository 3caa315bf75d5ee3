/**
 * Worker roles for the mmap_lock and seqcount stress tests (run from dist/, as .js). Each role
 * posts one result object and exits. Run as a file on the main thread (the test runner picks up
 * every .js under test/), it does nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SPECULATE_FAILED, speculateRetry, speculateTryBegin } from '../../src/sync/mm-seqcount.js';
import {
  mmapReadLock,
  mmapReadUnlock,
  mmapWriteLock,
  mmapWriteUnlock,
} from '../../src/sync/mmap-lock.js';
import {
  CMD,
  CMD_RELEASE,
  DATA,
  DATA_WORDS,
  MM,
  READERS_IN,
  SEEN,
  STATUS,
  spin,
  status,
  WRITER_DONE,
  WRITERS_IN,
  waitAtLeast,
} from './stress-layout.js';

export interface MmapWorkerData {
  role: string;
  words: Int32Array;
  iterations: number;
  /** Status word index of this worker. */
  statusWord?: number;
  /** Status word index of the worker this one steps with. */
  peerStatusWord?: number;
}

function publish(w: Int32Array, i: number, v: number): void {
  Atomics.store(w, i, v);
  Atomics.notify(w, i);
}

/** Writer under mutual exclusion: changes the data words one by one, checking it is alone. */
function exclusionWriter(w: Int32Array, n: number) {
  let violations = 0;
  let sink = 0;
  for (let k = 1; k <= n; k++) {
    mmapWriteLock(w, MM);
    if (Atomics.add(w, WRITERS_IN, 1) !== 0 || Atomics.load(w, READERS_IN) !== 0) violations++;
    for (let j = 0; j < DATA_WORDS; j++) {
      w[DATA + j] = k;
      sink += spin(8);
    }
    Atomics.sub(w, WRITERS_IN, 1);
    mmapWriteUnlock(w, MM);
  }
  publish(w, WRITER_DONE, 1);
  return { violations, writes: n, sink };
}

/** Reader under the read lock: the data words must all be equal and no writer inside. */
function exclusionReader(w: Int32Array, minReads: number) {
  let violations = 0;
  let torn = 0;
  let seqOdd = 0;
  let reads = 0;
  let changes = 0;
  let last = -1;
  let sink = 0;
  while (Atomics.load(w, WRITER_DONE) === 0 || reads < minReads) {
    mmapReadLock(w, MM);
    Atomics.add(w, READERS_IN, 1);
    if (Atomics.load(w, WRITERS_IN) !== 0) violations++;
    if (speculateTryBegin(w, MM) === SPECULATE_FAILED) seqOdd++;
    const v = w[DATA];
    for (let j = 1; j < DATA_WORDS; j++) {
      sink += spin(8);
      if (w[DATA + j] !== v) torn++;
    }
    Atomics.sub(w, READERS_IN, 1);
    mmapReadUnlock(w, MM);
    if (v !== last) changes++;
    last = v;
    reads++;
  }
  return { violations, torn, seqOdd, reads, changes, sink };
}

/** Writer-preference rounds, stepped by the main thread (see mmap-lock-stress.test.ts). */
function preferenceHolder(w: Int32Array, rounds: number, me: number) {
  for (let r = 1; r <= rounds; r++) {
    waitAtLeast(w, CMD, status(r, 1));
    mmapReadLock(w, MM);
    publish(w, me, status(r, 1));
    waitAtLeast(w, CMD_RELEASE, r);
    mmapReadUnlock(w, MM);
    publish(w, me, status(r, 3));
  }
  return { rounds };
}

function preferenceWriter(w: Int32Array, rounds: number, me: number) {
  for (let r = 1; r <= rounds; r++) {
    waitAtLeast(w, CMD, status(r, 2));
    mmapWriteLock(w, MM, { beforeWait: () => publish(w, me, status(r, 1)) });
    w[DATA] = r; // "the writer has had the lock in round r"
    publish(w, me, status(r, 2));
    mmapWriteUnlock(w, MM);
    publish(w, me, status(r, 3));
  }
  return { rounds };
}

function preferenceLateReader(w: Int32Array, rounds: number, me: number) {
  for (let r = 1; r <= rounds; r++) {
    waitAtLeast(w, CMD, status(r, 3));
    mmapReadLock(w, MM, { beforeWait: () => publish(w, me, status(r, 1)) });
    w[SEEN] = w[DATA];
    publish(w, me, status(r, 2));
    mmapReadUnlock(w, MM);
    publish(w, me, status(r, 3));
  }
  return { rounds };
}

/**
 * Hand-off rounds: hold the write lock until the reader has queued, release, and at once try to
 * take it again. The queued reader must get in between (it was handed the lock at the release).
 */
function handoffWriter(w: Int32Array, rounds: number, me: number, reader: number) {
  for (let r = 1; r <= rounds; r++) {
    waitAtLeast(w, CMD, status(r, 1));
    mmapWriteLock(w, MM);
    w[DATA] = r;
    publish(w, me, status(r, 1));
    waitAtLeast(w, reader, status(r, 1)); // the reader is queued behind us
    mmapWriteUnlock(w, MM);
    mmapWriteLock(w, MM); // a writer in a tight loop
    w[DATA] = -r;
    mmapWriteUnlock(w, MM);
    publish(w, me, status(r, 3));
  }
  return { rounds };
}

function handoffReader(w: Int32Array, rounds: number, me: number, writer: number) {
  for (let r = 1; r <= rounds; r++) {
    waitAtLeast(w, writer, status(r, 1)); // the writer holds the lock
    mmapReadLock(w, MM, { beforeWait: () => publish(w, me, status(r, 1)) });
    w[SEEN] = w[DATA];
    mmapReadUnlock(w, MM);
    publish(w, me, status(r, 3));
  }
  return { rounds };
}

/** Deterministic seqcount rounds: command 2r-1 = write-lock and write; 2r = unlock. */
function seqStepWriter(w: Int32Array, rounds: number, me: number) {
  for (let r = 1; r <= rounds; r++) {
    waitAtLeast(w, CMD, 2 * r - 1);
    mmapWriteLock(w, MM);
    w[DATA] = r;
    publish(w, me, 2 * r - 1);
    waitAtLeast(w, CMD, 2 * r);
    mmapWriteUnlock(w, MM);
    publish(w, me, 2 * r);
  }
  return { rounds };
}

/** Free-running seqcount writer: two words that are equal only outside the write section. */
function seqFreeWriter(w: Int32Array, n: number) {
  let sink = 0;
  for (let k = 1; k <= n; k++) {
    mmapWriteLock(w, MM);
    w[DATA] = k;
    sink += spin(16);
    w[DATA + 1] = k;
    mmapWriteUnlock(w, MM);
  }
  publish(w, WRITER_DONE, 1);
  return { writes: n, sink };
}

/** Speculative reader: whatever it accepts (no retry) must be consistent and never go back. */
function seqFreeReader(w: Int32Array, minAccepted: number) {
  let accepted = 0;
  let retries = 0;
  let failedBegins = 0;
  let torn = 0;
  let backwards = 0;
  let last = 0;
  let sink = 0;
  while (Atomics.load(w, WRITER_DONE) === 0 || accepted < minAccepted) {
    const seq = speculateTryBegin(w, MM);
    if (seq === SPECULATE_FAILED) {
      failedBegins++;
      continue;
    }
    const x = w[DATA];
    sink += spin(16);
    const y = w[DATA + 1];
    if (speculateRetry(w, MM, seq)) {
      retries++;
      continue;
    }
    if (x !== y) torn++;
    if (x < last) backwards++;
    last = x;
    accepted++;
  }
  return { accepted, retries, failedBegins, torn, backwards, sink };
}

if (!isMainThread && parentPort) {
  const d = workerData as MmapWorkerData;
  const me = d.statusWord ?? STATUS;
  const roles: Record<string, () => unknown> = {
    'exclusion-writer': () => exclusionWriter(d.words, d.iterations),
    'exclusion-reader': () => exclusionReader(d.words, d.iterations),
    'preference-holder': () => preferenceHolder(d.words, d.iterations, me),
    'preference-writer': () => preferenceWriter(d.words, d.iterations, me),
    'preference-late-reader': () => preferenceLateReader(d.words, d.iterations, me),
    'handoff-writer': () => handoffWriter(d.words, d.iterations, me, d.peerStatusWord ?? 0),
    'handoff-reader': () => handoffReader(d.words, d.iterations, me, d.peerStatusWord ?? 0),
    'seq-step-writer': () => seqStepWriter(d.words, d.iterations, me),
    'seq-free-writer': () => seqFreeWriter(d.words, d.iterations),
    'seq-free-reader': () => seqFreeReader(d.words, d.iterations),
  };
  const role = roles[d.role];
  if (role === undefined) throw new Error(`unknown role ${d.role}`);
  parentPort.postMessage(role());
}

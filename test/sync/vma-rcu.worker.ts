/**
 * Worker roles for the per-VMA lock and RCU stress tests (run from dist/, as .js). Each role
 * posts one result object and exits; run as a file on the main thread it does nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  mmapReadLock,
  mmapReadUnlock,
  mmapWriteLock,
  mmapWriteUnlock,
} from '../../src/sync/mmap-lock.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import {
  VMA_EAGAIN,
  VMA_LOCKED,
  vmaEndRead,
  vmaMarkAttached,
  vmaMarkDetached,
  vmaStartRead,
  vmaStartReadLocked,
  vmaStartWrite,
} from '../../src/sync/vma-lock.js';
import {
  ALIVE,
  CACHE_LINE,
  CMD,
  CMD_RELEASE,
  DATA,
  DATA_WORDS,
  MM,
  POISON,
  POOL,
  POOL_OBJECTS,
  READERS_IN,
  ROOT,
  STATUS,
  spin,
  status,
  VMA_LOCK_SEQ,
  VMA_REFCNT,
  WRITER_DONE,
  WRITERS_IN,
  waitAtLeast,
} from './stress-layout.js';

export interface VmaRcuWorkerData {
  role: string;
  words: Int32Array;
  iterations: number;
  rcu?: SharedArrayBuffer;
  statusWord?: number;
}

function publish(w: Int32Array, i: number, v: number): void {
  Atomics.store(w, i, v);
  Atomics.notify(w, i);
}

/**
 * VMA writer: under the mmap write lock, write-lock the VMA, check no reader holds it, change
 * its fields one by one; every 8th time also detach and re-attach it (as a split would).
 */
function vmaWriter(w: Int32Array, n: number) {
  let violations = 0;
  let sink = 0;
  for (let k = 1; k <= n; k++) {
    mmapWriteLock(w, MM);
    vmaStartWrite(w, MM, VMA_REFCNT, VMA_LOCK_SEQ);
    Atomics.store(w, WRITERS_IN, 1);
    if (Atomics.load(w, READERS_IN) !== 0) violations++;
    for (let j = 0; j < DATA_WORDS; j++) {
      w[DATA + j] = k;
      sink += spin(8);
    }
    if (k % 8 === 0) {
      vmaMarkDetached(w, MM, VMA_REFCNT, VMA_LOCK_SEQ);
      sink += spin(64);
      vmaMarkAttached(w, MM, VMA_REFCNT, VMA_LOCK_SEQ);
    }
    Atomics.store(w, WRITERS_IN, 0);
    mmapWriteUnlock(w, MM);
  }
  publish(w, WRITER_DONE, 1);
  return { violations, writes: n, sink };
}

/** Checks done while holding the VMA read lock: no writer inside, fields all equal. */
function readLocked(w: Int32Array): { violation: boolean; torn: boolean; sink: number } {
  Atomics.add(w, READERS_IN, 1);
  const violation = Atomics.load(w, WRITERS_IN) !== 0;
  const v = w[DATA];
  let torn = false;
  let sink = 0;
  for (let j = 1; j < DATA_WORDS; j++) {
    sink += spin(8);
    if (w[DATA + j] !== v) torn = true;
  }
  Atomics.sub(w, READERS_IN, 1);
  return { violation, torn, sink };
}

/** Per-VMA reader with the kernel's paths: LOCKED, FAIL -> mmap-lock fallback, EAGAIN -> retry. */
function vmaReader(w: Int32Array, minReads: number) {
  const counts = { locked: 0, fallback: 0, eagain: 0, violations: 0, torn: 0, lockedFailed: 0 };
  let reads = 0;
  let sink = 0;
  while (Atomics.load(w, WRITER_DONE) === 0 || reads < minReads) {
    const r = vmaStartRead(w, MM, VMA_REFCNT, VMA_LOCK_SEQ);
    if (r === VMA_EAGAIN) {
      counts.eagain++;
      continue;
    }
    if (r === VMA_LOCKED) {
      counts.locked++;
    } else {
      // lock_next_vma_under_mmap_lock: momentary mmap read lock to take the VMA read lock.
      mmapReadLock(w, MM);
      const ok = vmaStartReadLocked(w, VMA_REFCNT);
      mmapReadUnlock(w, MM);
      if (!ok) {
        counts.lockedFailed++; // the VMA is always attached outside a write section
        continue;
      }
      counts.fallback++;
    }
    const c = readLocked(w);
    if (c.violation) counts.violations++;
    if (c.torn) counts.torn++;
    sink += c.sink;
    vmaEndRead(w, VMA_REFCNT);
    reads++;
  }
  return { ...counts, reads, sink };
}

/** Stepped rounds: the main thread holds a VMA read lock while this writer tries to write-lock. */
function vmaStepWriter(w: Int32Array, rounds: number, me: number) {
  for (let r = 1; r <= rounds; r++) {
    waitAtLeast(w, CMD, r);
    mmapWriteLock(w, MM);
    vmaStartWrite(w, MM, VMA_REFCNT, VMA_LOCK_SEQ, {
      beforeWait: () => publish(w, me, status(r, 1)),
    });
    publish(w, me, status(r, 2));
    waitAtLeast(w, CMD_RELEASE, r);
    mmapWriteUnlock(w, MM);
    publish(w, me, status(r, 3));
  }
  return { rounds };
}

/** Stepped rounds: open a read section, report it, close it on command. */
function rcuStepReader(w: Int32Array, rcu: RcuDomain, rounds: number, me: number) {
  for (let r = 1; r <= rounds; r++) {
    waitAtLeast(w, CMD, r);
    rcu.readLock();
    publish(w, me, status(r, 1));
    waitAtLeast(w, CMD_RELEASE, r);
    rcu.readUnlock();
    publish(w, me, status(r, 3));
  }
  rcu.unregister();
  return { rounds };
}

const objectWord = (o: number) => POOL + o * CACHE_LINE;

/**
 * RCU publisher: replaces the published object N times, retiring the old one with a stamp and
 * poisoning it (then reusing it) only once isGraceOver says so; synchronize when out of objects.
 */
function rcuPublisher(w: Int32Array, rcu: RcuDomain, n: number) {
  const free: number[] = [];
  for (let o = 1; o < POOL_OBJECTS; o++) free.push(o);
  const retired: { object: number; stamp: number }[] = [];
  let reclaimed = 0;
  let synchronizes = 0;
  const reclaim = () => {
    while (retired.length > 0 && rcu.isGraceOver(retired[0].stamp)) {
      const { object } = retired.shift()!;
      const b = objectWord(object);
      w[b] = POISON; // a reader still using it would see this, or a mismatch below
      w[b + 1] = -1;
      w[b + 2] = -2;
      free.push(object);
      reclaimed++;
    }
  };
  for (let k = 1; k <= n; k++) {
    if (free.length === 0) {
      rcu.synchronize();
      synchronizes++;
      reclaim();
    }
    // Oldest free object first, so a reclaimed object stays poisoned for a while before reuse:
    // a reader that wrongly still holds it has a long window to see the poison.
    const o = free.shift()!;
    const b = objectWord(o);
    w[b] = ALIVE;
    w[b + 1] = k;
    w[b + 2] = k;
    const old = Atomics.load(w, ROOT);
    Atomics.store(w, ROOT, o); // unlink the old object, publish the new one
    retired.push({ object: old, stamp: rcu.retireStamp() });
    reclaim();
  }
  publish(w, WRITER_DONE, 1);
  rcu.unregister();
  return { reclaimed, synchronizes };
}

/** RCU reader: whatever it reaches inside a read section must be alive and consistent. */
function rcuReader(w: Int32Array, rcu: RcuDomain, minReads: number) {
  let reads = 0;
  let useAfterFree = 0;
  let sink = 0;
  while (Atomics.load(w, WRITER_DONE) === 0 || reads < minReads) {
    rcu.readLock();
    const b = objectWord(Atomics.load(w, ROOT));
    const alive = w[b];
    sink += spin(32);
    const a = w[b + 1];
    sink += spin(32);
    const c = w[b + 2];
    const stillAlive = w[b];
    rcu.readUnlock();
    if (alive !== ALIVE || stillAlive !== ALIVE || a !== c) useAfterFree++;
    reads++;
  }
  rcu.unregister();
  return { reads, useAfterFree, sink };
}

if (!isMainThread && parentPort) {
  const d = workerData as VmaRcuWorkerData;
  const me = d.statusWord ?? STATUS;
  const rcu = () => {
    if (d.rcu === undefined) throw new Error(`${d.role} needs an RCU buffer`);
    return RcuDomain.attach(d.rcu);
  };
  const roles: Record<string, () => unknown> = {
    'vma-writer': () => vmaWriter(d.words, d.iterations),
    'vma-reader': () => vmaReader(d.words, d.iterations),
    'vma-step-writer': () => vmaStepWriter(d.words, d.iterations, me),
    'rcu-step-reader': () => rcuStepReader(d.words, rcu(), d.iterations, me),
    'rcu-publisher': () => rcuPublisher(d.words, rcu(), d.iterations),
    'rcu-reader': () => rcuReader(d.words, rcu(), d.iterations),
  };
  const role = roles[d.role];
  if (role === undefined) throw new Error(`unknown role ${d.role}`);
  parentPort.postMessage(role());
}

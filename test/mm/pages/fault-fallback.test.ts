// The fault path takes the per-VMA read lock, and falls back to the mmap read lock when the VMA
// is write-locked by a writer (lock_vma_under_rcu fails), as Linux 6.18: a worker thread faults
// while this thread holds the mmap write lock and has write-locked the VMA; the fault waits on
// the mmap_lock path (its reader is seen blocked) and completes once the writer unlocks.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { MmGlobals, MmStruct, SYNC_WORDS_BASE } from '../../../src/mm/mm-struct.js';
import { beginMmWrite, endMmWrite, installWriterHooks } from '../../../src/mm/mm-writer.js';
import { mmap } from '../../../src/mm/syscalls/index.js';
import { touchPath } from '../../../src/mm/syscalls/touch-result.js';
import { vmaStartWrite } from '../../../src/mm/syscalls/vma-lock-hooks.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
} from '../../../src/mm/vm-flags.js';
import { mmapLockState } from '../../../src/sync/mmap-lock.js';
import { RcuDomain } from '../../../src/sync/rcu.js';
import type { TouchWorkerData } from './touch.worker.js';

const A = 0x1000_0000_0000;
const PAGE = 4096;

test('a write-locked VMA sends the fault to the mmap_lock path; an unlocked one is faulted under its VMA lock', async () => {
  const globals = MmGlobals.create({ maxFiles: 64, fileHeapBytes: 1 << 12, anonNameSlots: 16 });
  const rcu = RcuDomain.create();
  rcu.register();
  const mm = MmStruct.create({ globals, grace: rcu });
  mm.mmapBase = 0x7f00_0000_0000;
  assert.equal(
    mmap(mm, A, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
    A,
  );
  installWriterHooks();
  const data: TouchWorkerData = { mm: mm.buffer, globals: globals.buffers(), rcu: rcu.buffer };
  const w = new Worker(new URL('./touch.worker.js', import.meta.url), { workerData: data });
  try {
    await once(w, 'message'); // ready
    const ask = (addr: number) => {
      const reply = once(w, 'message');
      w.postMessage({ addr, length: PAGE, write: true });
      return reply.then(([m]) => m as { r: number; paths: number[] });
    };
    // Normally: under the VMA lock (the first write prepares the anon_vma with a trylock).
    let got = await ask(A);
    assert.deepEqual(got.paths, [0]);
    assert.equal(touchPath(got.r), 'vma_lock');

    // A writer holds the mmap write lock and has write-locked the VMA.
    beginMmWrite(mm);
    vmaStartWrite(mm, mm.vmaLookup(A));
    const pending = ask(A + PAGE);
    // The fault could not lock the VMA: it waits for the mmap read lock behind the writer.
    const deadline = Date.now() + 20_000;
    while (mmapLockState(mm.i32, SYNC_WORDS_BASE).blockedReaders === 0) {
      assert.ok(Date.now() < deadline, 'the faulting thread never blocked on the mmap read lock');
      await new Promise((r) => setImmediate(r));
    }
    endMmWrite(mm, { recorder: null, strategy: 1 }, 0, 0);
    got = await pending;
    assert.deepEqual(got.paths, [1], 'one fault, handled on the mmap_lock path');
    assert.equal(touchPath(got.r), 'mmap_lock');

    // Unlocked again: back to the per-VMA lock.
    got = await ask(A + 2 * PAGE);
    assert.deepEqual(got.paths, [0]);
  } finally {
    w.postMessage('exit');
    await once(w, 'exit');
    rcu.unregister();
  }
});

/**
 * The global tables under concurrent appends from two worker threads (their spinlocks): needs the
 * compiled tree: `npx tsc -p tsconfig.json && node --test dist/test/mm/global-tables.test.js`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ENOMEM } from '../../src/mm/errno.js';
import { MmGlobals } from '../../src/mm/mm-struct.js';
import {
  identity,
  type TablesWorkerData,
  type TablesWorkerResult,
} from './global-tables.worker.js';

function run(data: TablesWorkerData): { ready: Promise<void>; done: Promise<TablesWorkerResult> } {
  const w = new Worker(new URL('./global-tables.worker.js', import.meta.url), { workerData: data });
  let onReady: () => void = () => {};
  let onFail: (e: Error) => void = () => {};
  const ready = new Promise<void>((res, rej) => {
    onReady = res;
    onFail = rej;
  });
  const done = new Promise<TablesWorkerResult>((resolve, reject) => {
    const fail = (e: Error) => {
      onFail(e);
      reject(e);
    };
    w.on('message', (m: TablesWorkerResult | { ready: true }) => {
      if ('ready' in m) onReady();
      else resolve(m);
    });
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`worker exited (code ${code}) before reporting`)));
  });
  return { ready, done };
}

describe('global tables shared by threads', () => {
  it('intern the same identities to the same ids from racing threads; names never leak or tear', {
    timeout: 60_000,
  }, async () => {
    const FILES = 3000;
    const SHMEM = 300;
    const SLOTS = 64;
    const g = MmGlobals.create({
      maxFiles: FILES + 2 * SHMEM + 8,
      fileHeapBytes: 1 << 20,
      anonNameSlots: SLOTS,
    });
    const start = new SharedArrayBuffer(4);
    const workers = [0, 1].map((seed) =>
      run({
        kind: 'global-tables',
        globals: g.buffers(),
        start,
        files: FILES,
        shmem: SHMEM,
        nameRounds: 20_000,
        seed,
      }),
    );
    await Promise.all(workers.map((w) => w.ready));
    Atomics.store(new Int32Array(start), 0, 1);
    Atomics.notify(new Int32Array(start), 0);
    const [a, b] = await Promise.all(workers.map((w) => w.done));

    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
    // Interning is global: both threads got the same id for every identity, ids are distinct.
    assert.deepEqual(a.ids, b.ids);
    assert.equal(new Set(a.ids).size, FILES);
    for (let i = 0; i < FILES; i += 37) {
      const id = a.ids[i];
      const want = identity(i);
      assert.equal(g.files.path(id), want.path);
      assert.equal(g.files.inode(id), want.inode);
      assert.equal(g.files.devMinor(id), want.devMinor);
    }
    // Every shmem file is its own object with its own inode.
    const shm = [...a.shmemIds, ...b.shmemIds];
    assert.equal(new Set(shm).size, 2 * SHMEM);
    assert.equal(new Set(shm.map((id) => g.files.inode(id))).size, 2 * SHMEM);
    assert.equal(g.files.count, 1 + FILES + 2 * SHMEM, 'no identity appended twice');
    // Anon names: every slot came back to the free list exactly once.
    assert.equal(g.anonNames.live, 0);
    const slots = new Set<number>();
    for (;;) {
      const h = g.anonNames.alloc('x');
      if (h === -ENOMEM) break;
      slots.add(h & 0xfffff);
    }
    assert.equal(slots.size, SLOTS);
  });
});

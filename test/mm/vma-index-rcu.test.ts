/**
 * RCU safety of the copy-on-write index: one thread mutates while others walk. Needs the compiled
 * tree (worker files are .js): `npx tsc -p tsconfig.json && node --test dist/test/mm/vma-index-rcu.test.js`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import type { WalkerData, WalkerResult } from './index-walker.worker.js';
import { EPOCH_RCU_WORDS, TestEpochRcu, tileId } from './test-epoch-rcu.js';

const P = 4096;
const PAGES = 4096;
const SPAN = PAGES * P;
const READERS = 2;

/** Deterministic PRNG (mulberry32) so a failure can be replayed with the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function startWalker(data: WalkerData): { ready: Promise<void>; done: Promise<WalkerResult> } {
  const w = new Worker(new URL('./index-walker.worker.js', import.meta.url), { workerData: data });
  let onReady: () => void = () => {};
  let onNotReady: (e: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onNotReady = reject;
  });
  const done = new Promise<WalkerResult>((resolve, reject) => {
    w.on('message', (m: WalkerResult | { ready: true }) => {
      if ('ready' in m) onReady();
      else resolve(m);
    });
    const fail = (e: Error) => {
      onNotReady(e);
      reject(e);
    };
    w.on('error', fail);
    // An exit before the result (also with code 0, e.g. a worker file that did not load as a
    // walker) must fail the test rather than leave it waiting. After a result it is a no-op.
    w.on('exit', (code) => fail(new Error(`walker exited (code ${code}) before reporting`)));
  });
  return { ready, done };
}

describe('VmaIndex under concurrent readers (worker threads)', () => {
  it('readers never see an inconsistent tree while a writer splits and merges entries', {
    timeout: 60_000,
  }, async (t) => {
    const seed = Number(process.env.MM_RCU_SEED ?? 20_261_203);
    t.diagnostic(`seed ${seed} (rerun with MM_RCU_SEED=${seed})`);
    const rand = prng(seed);
    const rcuWords = new SharedArrayBuffer(4 * EPOCH_RCU_WORDS);
    const rcu = new TestEpochRcu(new Int32Array(rcuWords), READERS);
    const globals = MmGlobals.create({ maxFiles: 4, fileHeapBytes: 4096, anonNameSlots: 4 });
    const mm = MmStruct.create({ maxVmas: 2 * PAGES, globals, grace: rcu });
    const control = new SharedArrayBuffer(4);

    // Writer-side model: the tiling's boundaries (sorted page numbers, 0 and PAGES included).
    let cuts = [0, PAGES];
    mm.index.store(0, SPAN, tileId(0));

    const walkers = Array.from({ length: READERS }, (_, reader) =>
      startWalker({
        kind: 'index-walker',
        arena: mm.buffer,
        globals: globals.buffers(),
        rcuWords,
        control,
        span: SPAN,
        reader,
      }),
    );
    await Promise.all(walkers.map((w) => w.ready));

    // Phases alternate between splitting (towards thousands of entries, a 3-4 level tree) and
    // merging (back towards one entry), so nodes split, underflow, merge, and the height changes.
    let ops = 0;
    const deadline = Date.now() + 1500;
    for (let phase = 0; Date.now() < deadline || phase < 2; phase++) {
      const splitting = phase % 2 === 0;
      for (let k = 0; k < 3000; k++) {
        if (splitting) {
          const p = 1 + Math.floor(rand() * (PAGES - 1));
          const i = cuts.findIndex((c) => c >= p);
          if (cuts[i] === p) continue;
          const hi = cuts[i];
          // One store splits [lo, hi): [p, hi) gets a new entry, [lo, p) is the trimmed old one.
          mm.index.store(p * P, hi * P, tileId(p * P));
          cuts.splice(i, 0, p);
        } else {
          if (cuts.length <= 2) break;
          const i = 1 + Math.floor(rand() * (cuts.length - 2));
          const lo = cuts[i - 1];
          const hi = cuts[i + 1];
          mm.index.store(lo * P, hi * P, tileId(lo * P));
          cuts = cuts.slice(0, i).concat(cuts.slice(i + 1));
        }
        ops++;
      }
    }
    Atomics.store(new Int32Array(control), 0, 1);
    const results = await Promise.all(walkers.map((w) => w.done));

    mm.index.check();
    assert.equal(mm.index.count, cuts.length - 1);
    for (const [r, res] of results.entries()) {
      assert.deepEqual(res.errors, [], `reader ${r} saw an inconsistent tree`);
      assert.ok(res.walks > 10, `reader ${r} walked only ${res.walks} times`);
      // The reader really raced the writer: it saw many different versions of the tree.
      assert.ok(res.distinctCounts > 5, `reader ${r} saw only ${res.distinctCounts} versions`);
    }
    // Retired nodes were recycled during the run (otherwise the test proves nothing about reuse).
    assert.ok(mm.deferred.reclaimedTotal > 1000, `reclaimed ${mm.deferred.reclaimedTotal}`);
    t.diagnostic(
      `${ops} writer ops; walks ${results.map((r) => r.walks).join('/')}; reclaimed ${mm.deferred.reclaimedTotal} of ${mm.deferred.retiredTotal} retired; ${mm.deferred.synchronizeCalls} waits for grace`,
    );
  });
});

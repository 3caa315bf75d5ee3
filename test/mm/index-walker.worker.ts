/**
 * Reader side of vma-index-rcu.test.ts (runs in a worker thread; a no-op when loaded by the test
 * runner on the main thread). Walks the index of a shared arena in RCU read sections while the
 * main thread mutates it, and checks every walk sees a consistent tree: the writer keeps the
 * entries an exact tiling of [0, span), so any snapshot must be sorted, gap-free, overlap-free,
 * cover exactly [0, span), and carry the id the writer derives from each range.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type MmGlobalBuffers, MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { TestEpochRcu, tileId } from './test-epoch-rcu.js';

export interface WalkerData {
  kind: 'index-walker';
  arena: SharedArrayBuffer;
  globals: MmGlobalBuffers;
  rcuWords: SharedArrayBuffer;
  control: SharedArrayBuffer; // [0] = stop flag
  span: number;
  reader: number;
}

export interface WalkerResult {
  walks: number;
  errors: string[];
  distinctCounts: number;
  pointQueries: number;
}

if (!isMainThread && (workerData as WalkerData | undefined)?.kind === 'index-walker') {
  const d = workerData as WalkerData;
  const mm = MmStruct.attach(d.arena, MmGlobals.attach(d.globals));
  const rcu = new TestEpochRcu(new Int32Array(d.rcuWords), d.reader + 1);
  const control = new Int32Array(d.control);
  const cursor = mm.index.cursor();
  const errors: string[] = [];
  const counts = new Set<number>();
  let walks = 0;
  let pointQueries = 0;
  parentPort!.postMessage({ ready: true });
  while (Atomics.load(control, 0) === 0 && errors.length < 5) {
    rcu.readLock(d.reader);
    let expect = 0;
    let n = 0;
    let bad: string | null = null;
    for (let ok = cursor.seek(0); ok; ok = cursor.next()) {
      if (cursor.start !== expect) {
        bad = `entry ${n} starts at ${cursor.start}, expected ${expect}`;
        break;
      }
      if (!(cursor.end > cursor.start) || cursor.id !== tileId(cursor.start)) {
        bad = `entry ${n} [${cursor.start}, ${cursor.end}) has id ${cursor.id}`;
        break;
      }
      expect = cursor.end;
      n++;
    }
    if (bad === null && expect !== d.span) bad = `walk ended at ${expect}, not ${d.span}`;
    // Point queries in the same section: every address is covered by exactly one entry.
    if (bad === null) {
      for (let k = 0; k < 8; k++) {
        const addr = Math.floor(Math.random() * (d.span / 4096)) * 4096;
        const id = mm.index.lookup(addr);
        const next = mm.index.findNext(addr);
        pointQueries++;
        if (id === 0 || next === 0) {
          bad = `address ${addr} not covered (lookup ${id}, findNext ${next})`;
          break;
        }
      }
    }
    rcu.readUnlock(d.reader);
    if (bad !== null) errors.push(bad);
    counts.add(n);
    walks++;
  }
  const result: WalkerResult = { walks, errors, distinctCounts: counts.size, pointQueries };
  parentPort!.postMessage(result);
}

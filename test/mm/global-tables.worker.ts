/**
 * Worker side of global-tables.test.ts (a no-op when the test runner loads it on the main
 * thread): interns file identities, creates shmem files and churns anon names in the shared
 * global tables, concurrently with another copy of itself.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type MmGlobalBuffers, MmGlobals } from '../../src/mm/mm-struct.js';

export interface TablesWorkerData {
  kind: 'global-tables';
  globals: MmGlobalBuffers;
  start: SharedArrayBuffer; // [0]: 0 until the main thread releases both workers
  files: number;
  shmem: number;
  nameRounds: number;
  seed: number;
}

export interface TablesWorkerResult {
  /** ids[i] = id of identity i. */
  ids: number[];
  shmemIds: number[];
  errors: string[];
}

export function identity(i: number) {
  return {
    path: `/usr/lib/lib${i % 97}.so.${i}`,
    devMajor: 0xfe,
    devMinor: i % 3,
    inode: 1000 + i,
  };
}

if (!isMainThread && (workerData as TablesWorkerData | undefined)?.kind === 'global-tables') {
  const d = workerData as TablesWorkerData;
  const g = MmGlobals.attach(d.globals);
  const start = new Int32Array(d.start);
  parentPort!.postMessage({ ready: true });
  Atomics.wait(start, 0, 0);
  const errors: string[] = [];
  // Intern in a worker-specific order so both threads race on the same identities.
  const order = Array.from({ length: d.files }, (_, i) => i);
  if (d.seed % 2 === 1) order.reverse();
  const ids = new Array<number>(d.files).fill(0);
  const shmemIds: number[] = [];
  let s = 0;
  for (const i of order) {
    ids[i] = g.files.intern(identity(i));
    if (s < d.shmem && i % 2 === 0) {
      shmemIds.push(g.files.createShmem());
      s++;
    }
  }
  while (s++ < d.shmem) shmemIds.push(g.files.createShmem());
  // Anon names: allocate, share, drop, checking our own handles stay intact meanwhile.
  for (let r = 0; r < d.nameRounds; r++) {
    const name = `w${d.seed}-${r}`;
    const h = g.anonNames.alloc(name);
    if (h < 0) {
      errors.push(`alloc failed: ${h}`);
      break;
    }
    g.anonNames.ref(h);
    if (g.anonNames.get(h) !== name) errors.push(`round ${r}: read ${g.anonNames.get(h)}`);
    g.anonNames.put(h);
    if (!g.anonNames.isLive(h)) errors.push(`round ${r}: freed while referenced`);
    g.anonNames.put(h);
  }
  const result: TablesWorkerResult = { ids, shmemIds, errors };
  parentPort!.postMessage(result);
}

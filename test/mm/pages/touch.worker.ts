// A faulting thread for fault-fallback.test.ts: attaches the mm with the shared RCU, then runs
// one touch per message and posts back its result and the lock path of each fault.
import { parentPort, workerData } from 'node:worker_threads';
import { type MmGlobalBuffers, MmGlobals, MmStruct } from '../../../src/mm/mm-struct.js';
import { touch } from '../../../src/mm/syscalls/touch.js';
import { RcuDomain } from '../../../src/sync/rcu.js';

export interface TouchWorkerData {
  mm: SharedArrayBuffer;
  globals: MmGlobalBuffers;
  rcu: SharedArrayBuffer;
}

const d = workerData as TouchWorkerData;
const rcu = RcuDomain.attach(d.rcu);
rcu.register();
const mm = MmStruct.attach(d.mm, MmGlobals.attach(d.globals), rcu);
parentPort?.on('message', (m: { addr: number; length: number; write: boolean } | 'exit') => {
  if (m === 'exit') {
    rcu.unregister();
    parentPort?.close();
    return;
  }
  const paths: number[] = [];
  const r = touch(mm, m.addr, m.length, m.write, { fault: (path) => paths.push(path) });
  parentPort?.postMessage({ r, paths });
});
parentPort?.postMessage('ready');

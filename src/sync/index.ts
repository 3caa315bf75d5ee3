/** The shared-memory locking primitives (docs/locking.md): one import for src/mm and src/procfs. */
export * from './layout.js';
export * from './lock-next-vma.js';
export * from './mm-seqcount.js';
export * from './mmap-lock.js';
export * from './rcu.js';
export * from './vma-lock.js';
export {
  letEventLoopExitWhileWaiting,
  mayBlock,
  nowNs,
  pendingAsyncWaitCount,
  type WaitObserver,
} from './wait.js';

/** The mm syscalls with Linux 6.18 semantics (docs/ARCHITECTURE.md "Syscall API"). */
export { prctlSetVmaAnonName } from './anon-name.js';
export { populateVma } from './anon-vma.js';
export { brk } from './brk.js';
export { exitMm } from './exit.js';
export { forkMm } from './fork.js';
export { MADVISE_ADVICE, madvise } from './madvise.js';
export { type FileMapping, mmap } from './mmap.js';
export { mprotect } from './mprotect.js';
export { mremap } from './mremap.js';
export { munmap } from './munmap.js';
export {
  SINGLE_THREADED_HOOKS,
  setVmaLockHooks,
  type VmaLockHooks,
} from './vma-lock-hooks.js';

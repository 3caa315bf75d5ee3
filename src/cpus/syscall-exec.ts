/**
 * Executes one `SyscallCall` (the API's shape of a call) on an address space, under the writer
 * protocol of src/mm/mm-writer.ts. Shared by the worker CPUs (HTTP mutations, /syscalls batches,
 * /ws requests) and the activity threads (busy processes), so both change address spaces the
 * same way. Runs on worker threads only: the writer may block on the mmap lock.
 */
import {
  type FaultPathId,
  faultResultId,
  type MutationOpId,
  mutationOpId,
} from '../metrics/labels.js';
import { EBADF, EINVAL, ENOMEM } from '../mm/errno.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { mmWrite, type WriterEnv } from '../mm/mm-writer.js';
import { ForkNoMemoryError } from '../mm/syscalls/fork.js';
import {
  brk,
  exitMm,
  type FileMapping,
  forkMm,
  madvise,
  mmap,
  mprotect,
  mremap,
  munmap,
  prctlSetVmaAnonName,
} from '../mm/syscalls/index.js';
import { type FaultObserver, touch } from '../mm/syscalls/touch.js';
import { MAP_ANONYMOUS, PAGE_SIZE } from '../mm/vm-flags.js';
import { OpError } from './cpu-protocol.js';
import type { FileRef, SyscallCall } from './sim-api.js';

type MutationCall = Exclude<SyscallCall, { op: 'touch' }>;

const OP_IDS: Record<MutationCall['op'], MutationOpId> = {
  mmap: mutationOpId('mmap'),
  munmap: mutationOpId('munmap'),
  mprotect: mutationOpId('mprotect'),
  mremap: mutationOpId('mremap'),
  brk: mutationOpId('brk'),
  anon_name: mutationOpId('anon_name'),
  madvise: mutationOpId('madvise'),
};
const FORK_OP = mutationOpId('fork');
const EXIT_OP = mutationOpId('exit');

/**
 * The file of an mmap call as the engine sees it (interned in the global file table), with a
 * reference for the caller to put after the call (the open file descriptor's, as it were).
 */
function fileMapping(mm: MmStruct, f: FileRef, offset: number): FileMapping | number {
  const fileId = mm.internFile({
    path: f.path,
    devMajor: f.devMajor,
    devMinor: f.devMinor,
    inode: f.inode,
  });
  if (fileId < 0) return fileId;
  return { fileId, offset, writable: f.writable };
}

/**
 * The syscall itself, with no locking: the caller holds the mmap write lock, or is the only
 * thread that knows the mm (single-threaded tests and tools).
 */
export function applySyscall(mm: MmStruct, c: SyscallCall): number {
  switch (c.op) {
    case 'touch':
      return touch(mm, c.addr, c.length, c.write, null);
    case 'mmap': {
      if (c.file === null) {
        // No fd: the offset is still checked first (sys_mmap), then a file-backed request
        // without one is EBADF (ksys_mmap_pgoff).
        if (c.offset % PAGE_SIZE !== 0) return -EINVAL;
        if ((c.flags & MAP_ANONYMOUS) === 0) return -EBADF;
        return mmap(mm, c.addr, c.length, c.prot, c.flags);
      }
      const file = fileMapping(mm, c.file, c.offset);
      if (typeof file === 'number') return file;
      const r = mmap(mm, c.addr, c.length, c.prot, c.flags, file);
      mm.putFile(file.fileId); // fput after do_mmap: the VMA, if any, holds its own reference
      return r;
    }
    case 'munmap':
      return munmap(mm, c.addr, c.length);
    case 'mprotect':
      return mprotect(mm, c.addr, c.length, c.prot);
    case 'mremap':
      return mremap(mm, c.oldAddr, c.oldSize, c.newSize, c.flags, c.newAddr);
    case 'brk':
      return brk(mm, c.addr);
    case 'anon_name':
      return prctlSetVmaAnonName(mm, c.addr, c.length, c.name);
    case 'madvise':
      return madvise(mm, c.addr, c.length, c.advice);
  }
}

/** Runs `call` on `mm` under the mmap write lock. Returns its result: >= 0, or -errno. */
export function execSyscall(mm: MmStruct, env: WriterEnv, call: SyscallCall): number {
  if (call.op === 'touch') return execTouch(mm, env, call.addr, call.length, call.write);
  return mmWrite(mm, env, OP_IDS[call.op], () => applySyscall(mm, call));
}

/**
 * A touch: page faults under the per-VMA read lock or the mmap read lock (never the write lock,
 * except to grow a stack), each recorded with the read strategy in force.
 */
export function execTouch(
  mm: MmStruct,
  env: WriterEnv,
  addr: number,
  length: number,
  write: boolean,
): number {
  const rec = env.recorder;
  const observer: FaultObserver | null = rec
    ? {
        fault: (path, errno, ns) =>
          rec.fault(path as FaultPathId, faultResultId(errno), env.strategy, ns),
      }
    : null;
  return touch(mm, addr, length, write, observer);
}

/** fork(2): copies `parent` under its mmap write lock (dup_mmap); the child is not shared yet. */
export function execFork(parent: MmStruct, env: WriterEnv): MmStruct {
  let child: MmStruct | undefined;
  const r = mmWrite(parent, env, FORK_OP, () => {
    try {
      child = forkMm(parent);
    } catch (err) {
      if (err instanceof ForkNoMemoryError) return -ENOMEM;
      throw err;
    }
    return 0;
  });
  if (r === -ENOMEM) throw new OpError(ENOMEM, 'fork: out of memory (--max-memory)');
  if (!child) throw new Error('fork produced no child');
  return child;
}

/** exit(2)'s exit_mmap: tears the whole address space down under its mmap write lock. */
export function execExit(mm: MmStruct, env: WriterEnv): void {
  mmWrite(mm, env, EXIT_OP, () => {
    exitMm(mm);
    return 0;
  });
}

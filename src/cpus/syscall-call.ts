/**
 * The syscalls the engine models, as data (a leaf module: the SimApi, the replay reader and the
 * schemas share these shapes).
 */

/** A file to map, as the HTTP body names it; the implementation interns it in the file table. */
export interface FileRef {
  path: string;
  /** Device numbers as `/proc/PID/maps` prints them (major:minor). */
  devMajor: number;
  devMinor: number;
  inode: number;
  /** Whether the (simulated) fd was opened O_RDWR; MAP_SHARED|PROT_WRITE needs it (else EACCES). */
  writable: boolean;
}

/**
 * One syscall with engine numbers, generic in what names the file of an mmap: `op` names are API
 * (`/syscalls`, activity loops, /ws).
 */
export type SyscallCallOf<File> =
  | {
      op: 'mmap';
      addr: number;
      length: number;
      prot: number;
      flags: number;
      /** The offset argument (bytes); checked for alignment even when anonymous, as Linux does. */
      offset: number;
      /** null: no fd (EBADF unless MAP_ANONYMOUS). */
      file: File | null;
    }
  | { op: 'munmap'; addr: number; length: number }
  | { op: 'mprotect'; addr: number; length: number; prot: number }
  | {
      op: 'mremap';
      oldAddr: number;
      oldSize: number;
      newSize: number;
      flags: number;
      newAddr: number;
    }
  | { op: 'brk'; addr: number }
  | { op: 'anon_name'; addr: number; length: number; name: string | null }
  /** madvise(2); `advice` is the kernel's MADV_* value (src/mm/syscalls/madvise.ts). */
  | { op: 'madvise'; addr: number; length: number; advice: number }
  /** Accesses every page of the range (page faults); result: src/mm/syscalls/touch-result.ts. */
  | { op: 'touch'; addr: number; length: number; write: boolean };

/** A call as the API and the engine take it: the file is named by a FileRef. */
export type SyscallCall = SyscallCallOf<FileRef>;
export type SyscallOp = SyscallCall['op'];

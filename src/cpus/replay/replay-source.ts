/**
 * Turns a parsed strace transcript into the calls a simulated process runs, one at a time, and
 * compares each result with the one the kernel gave the traced program.
 *
 * Relocation: where the kernel chose an address (mmap without MAP_FIXED/MAP_FIXED_NOREPLACE,
 * mremap that may move without MREMAP_FIXED, the break that brk(0) reports) and the engine chose another, the recorded
 * range [recorded, recorded + length) is mapped onto the engine's from then on, so later calls
 * that name addresses inside it (an munmap of that mapping, an mprotect of part of it) act on the
 * same memory. A trace taken without ASLR (`setarch -R`) from the same initial maps needs none:
 * the engine places mappings where Linux does.
 *
 * Mismatches: a call whose outcome differs from the recorded one after relocation — success vs
 * error, another errno, or a fixed address that differs — is counted, and the replay goes on.
 */
import { EACCES } from '../../mm/errno.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
} from '../../mm/vm-flags.js';
import type { FileRef, SyscallCall } from '../sim-api.js';
import type { ParsedTrace, TracedCall, TracedFile } from './strace-trace.js';

/** dev/inode of a traced file (by path), e.g. from the maps texts captured with the trace. */
export type FileIdentity = (path: string) => Omit<FileRef, 'path' | 'writable'> | undefined;

/** A recorded range the engine placed elsewhere: addresses in [start, end) move by `delta`. */
interface Relocation {
  start: number;
  end: number;
  delta: number;
}

export class ReplaySource {
  private readonly calls: readonly TracedCall[];
  private readonly relocations: Relocation[] = [];
  private readonly identity: FileIdentity;
  private readonly synthetic = new Map<string, number>();
  private index = 0;
  /** The call handed out last, awaiting its result in `next()`. */
  private pending: TracedCall | null = null;
  /** Calls whose result differed from the recorded one. */
  mismatches = 0;
  /** Calls run so far (all passes). */
  callsRun = 0;

  constructor(trace: ParsedTrace, identity: FileIdentity = () => undefined) {
    this.calls = trace.calls;
    this.identity = identity;
  }

  /** Number of calls in one pass. */
  get length(): number {
    return this.calls.length;
  }

  /** True once every call of the pass has been handed out and its result taken. */
  get passDone(): boolean {
    return this.index >= this.calls.length && this.pending === null;
  }

  /** Seconds from the first call to call `i` of the pass, as recorded (0 without timestamps). */
  offsetS(i: number): number {
    const t0 = this.calls[0]?.time ?? null;
    const t = this.calls[i]?.time ?? null;
    return t0 === null || t === null ? 0 : Math.max(0, t - t0);
  }

  /** Index in the pass of the call `next()` hands out next. */
  get position(): number {
    return this.index;
  }

  /**
   * Takes the result of the previous call (if any), then hands out the next one with its
   * addresses relocated, or null at the end of the pass.
   */
  next(previousResult?: number): SyscallCall | null {
    if (this.pending !== null) {
      this.settle(this.pending, previousResult ?? Number.NaN);
      this.pending = null;
    }
    const traced = this.calls[this.index];
    if (traced === undefined) return null;
    this.index++;
    this.pending = traced;
    this.callsRun++;
    return this.toCall(traced);
  }

  /** Starts the pass again (relocations kept: the runner decides what the address space is). */
  rewind(): void {
    this.index = 0;
    this.pending = null;
  }

  private settle(traced: TracedCall, result: number): void {
    const recorded = traced.result;
    const c = traced.call;
    if (recorded < 0 || result < 0) {
      if (recorded !== result) this.mismatches++;
      return;
    }
    const placed = placement(c);
    if (placed !== null && this.relocate(recorded) !== result) {
      // The engine put it elsewhere: follow it from now on.
      this.relocations.push({ start: recorded, end: recorded + placed, delta: result - recorded });
      return;
    }
    if (this.relocate(recorded) !== result) this.mismatches++;
  }

  private relocate(addr: number): number {
    // Newest first: a later placement of the same recorded range wins.
    for (let i = this.relocations.length - 1; i >= 0; i--) {
      const r = this.relocations[i]!;
      if (addr >= r.start && addr < r.end) return addr + r.delta;
    }
    return addr;
  }

  private toCall(traced: TracedCall): SyscallCall {
    const c = traced.call;
    const at = (a: number) => this.relocate(a);
    switch (c.op) {
      case 'mmap':
        return {
          op: 'mmap',
          addr: at(c.addr),
          length: c.length,
          prot: c.prot,
          flags: c.flags,
          offset: c.offset,
          file:
            c.file === null || (c.flags & MAP_ANONYMOUS) !== 0
              ? null
              : this.fileRef(c.file, traced.result !== -EACCES),
        };
      case 'munmap':
        return { op: 'munmap', addr: at(c.addr), length: c.length };
      case 'mprotect':
        return { op: 'mprotect', addr: at(c.addr), length: c.length, prot: c.prot };
      case 'mremap':
        return {
          op: 'mremap',
          oldAddr: at(c.oldAddr),
          oldSize: c.oldSize,
          newSize: c.newSize,
          flags: c.flags,
          newAddr: (c.flags & MREMAP_FIXED) !== 0 ? at(c.newAddr) : c.newAddr,
        };
      case 'brk':
        return { op: 'brk', addr: c.addr === 0 ? 0 : at(c.addr) };
      case 'anon_name':
        return { op: 'anon_name', addr: at(c.addr), length: c.length, name: c.name };
      case 'touch':
        return { op: 'touch', addr: at(c.addr), length: c.length, write: c.write };
      case 'madvise':
        return { op: 'madvise', addr: at(c.addr), length: c.length, advice: c.advice };
    }
  }

  /**
   * The file behind a traced fd. Its identity comes from `identity` (the captured maps) when it
   * knows the path; otherwise a stable made-up inode on dev 00:00. The fd was writable unless
   * the kernel refused a shared writable mapping of it (EACCES).
   */
  private fileRef(f: TracedFile, writable: boolean): FileRef {
    const path = f.path ?? `/proc/self/fd/${f.fd}`;
    const known = this.identity(path);
    if (known !== undefined) return { path, writable, ...known };
    let inode = this.synthetic.get(path);
    if (inode === undefined) {
      inode = 0x70000000 + this.synthetic.size;
      this.synthetic.set(path, inode);
    }
    return { path, devMajor: 0, devMinor: 0, inode, writable };
  }
}

/** The break's range, as far as a relocation of it reaches (brk(0) only reports it). */
const BRK_SPAN = 2 ** 40;

/** Length of the range a call lets the kernel place (mmap, moving mremap, brk), else null. */
function placement(c: TracedCall['call']): number | null {
  if (c.op === 'brk') return c.addr === 0 ? BRK_SPAN : null;
  if (c.op === 'mmap') return (c.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) === 0 ? c.length : null;
  if (c.op === 'mremap')
    return (c.flags & MREMAP_MAYMOVE) !== 0 && (c.flags & MREMAP_FIXED) === 0 ? c.newSize : null;
  return null;
}

/** dev/inode of every file path in maps texts (e.g. the initial and final maps of a trace). */
export function fileIdentitiesFromMaps(
  ...texts: string[]
): Record<string, Omit<FileRef, 'path' | 'writable'>> {
  const known: Record<string, Omit<FileRef, 'path' | 'writable'>> = {};
  for (const text of texts)
    for (const line of text.split('\n')) {
      const m = /^\S+ \S+ \S+ ([0-9a-f]+):([0-9a-f]+) (\d+) +(\/.*)$/.exec(line);
      if (m === null || m[3] === '0') continue;
      known[m[4]!.replace(/ \(deleted\)$/, '')] = {
        devMajor: Number.parseInt(m[1]!, 16),
        devMinor: Number.parseInt(m[2]!, 16),
        inode: Number(m[3]),
      };
    }
  return known;
}

/** `fileIdentitiesFromMaps` as a lookup. */
export function fileIdentityFromMaps(...texts: string[]): FileIdentity {
  const known = fileIdentitiesFromMaps(...texts);
  return (path) => (Object.hasOwn(known, path) ? known[path] : undefined);
}

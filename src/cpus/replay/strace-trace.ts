/**
 * Reads the text `strace -f -ttt -e trace=memory,prctl` writes (with or without `-f`, `-ttt`, `-y`,
 * `-o FILE` or the terminal's `[pid N]` prefixes) into the calls a replay runs: each memory syscall
 * the engine models, in the order the kernel ran them, with its recorded result.
 *
 * What strace prints that is not a call (signals, exits, the capture's injected marks) is passed
 * over; calls the engine does not model (mlock, other prctls, ...) are counted by name in
 * `unmodelled`, not run, and so is a madvise with an advice the engine does not model, under
 * `madvise(MADV_NAME)` (MADV_DONTNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTFORK and
 * MADV_DOFORK run); a line that cannot be read is an error naming its line number, so a
 * truncated or foreign trace is refused whole rather than half-replayed.
 *
 * Addresses are kept exactly as recorded: relocating kernel-chosen addresses is the runner's job.
 */
import { ERRNO_BY_NAME } from '../../mm/errno.js';
import {
  MADV_DOFORK,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
} from '../../mm/syscalls/madvise.js';
import {
  MAP_32BIT,
  MAP_ABOVE4G,
  MAP_ANONYMOUS,
  MAP_DENYWRITE,
  MAP_DROPPABLE,
  MAP_EXECUTABLE,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_HUGE_SHIFT,
  MAP_HUGETLB,
  MAP_LOCKED,
  MAP_NONBLOCK,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_STACK,
  MAP_SYNC,
  MAP_UNINITIALIZED,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_EXEC,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
  PROT_NONE,
  PROT_READ,
  PROT_SEM,
  PROT_WRITE,
} from '../../mm/vm-flags.js';
import type { SyscallCallOf } from '../syscall-call.js';
import { splitArgs } from './strace-args.js';

/** A file an mmap names: the fd, and its path when the trace was taken with `-y`. */
export interface TracedFile {
  fd: number;
  path: string | null;
}

/** One modelled call with engine numbers; a file mmap carries the traced fd, not a FileRef yet. */
export type TracedSyscall = SyscallCallOf<TracedFile>;

export interface TracedCall {
  /** 1-based line of the trace where the call started. */
  line: number;
  /** Thread id from the `-f` prefix; 0 when the trace has none. */
  tid: number;
  /** Seconds since the epoch (`-ttt`), or null when the trace has no timestamps. */
  time: number | null;
  call: TracedSyscall;
  /** What the kernel returned: the value (>= 0), or -errno. */
  result: number;
}

export interface ParsedTrace {
  /**
   * In the order their results were printed: a call strace split around another thread's output
   * takes its place when it resumed (its effect was somewhere in between; with its result known).
   */
  calls: TracedCall[];
  /**
   * Calls in the trace the engine does not model, by syscall name (e.g. `mlock: 6`); a madvise
   * whose advice it does not model by name and advice (`madvise(MADV_FREE): 6`).
   */
  unmodelled: Record<string, number>;
}

/** A trace that cannot be read; `line` is 1-based. */
export class TraceSyntaxError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`trace line ${line}: ${message}`);
    this.name = 'TraceSyntaxError';
    this.line = line;
  }
}

const PROT_NAMES: Readonly<Record<string, number>> = {
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  PROT_EXEC,
  PROT_SEM,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
};
const MAP_NAMES: Readonly<Record<string, number>> = {
  MAP_SHARED,
  MAP_PRIVATE,
  MAP_SHARED_VALIDATE,
  MAP_DROPPABLE,
  MAP_FIXED,
  MAP_ANONYMOUS,
  MAP_32BIT,
  MAP_ABOVE4G,
  MAP_GROWSDOWN,
  MAP_DENYWRITE,
  MAP_EXECUTABLE,
  MAP_LOCKED,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_NONBLOCK,
  MAP_STACK,
  MAP_HUGETLB,
  MAP_SYNC,
  MAP_FIXED_NOREPLACE,
  MAP_UNINITIALIZED,
  MAP_FILE: 0,
};
/** The advice values the engine's madvise models (src/mm/syscalls/madvise.ts). */
const MADV_MODELLED: Readonly<Record<string, number>> = {
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_DONTFORK,
  MADV_DOFORK,
};
const MREMAP_NAMES: Readonly<Record<string, number>> = {
  MREMAP_MAYMOVE,
  MREMAP_FIXED,
  MREMAP_DONTUNMAP,
};

/** `[pid N] ` or `N ` (with -f), then `SECONDS.USEC ` (with -ttt), then the rest. */
const PREFIX = /^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(?:(\d+\.\d+)\s+)?(.*)$/;
/** `name(args) = result` with the result's tail (errno name, comment, `(INJECTED)`). */
const COMPLETE = /^([a-z_0-9]+)\((.*)\)\s+=\s+(\S+)(.*)$/;
const UNFINISHED = /^([a-z_0-9]+)\((.*?)\s*<unfinished \.\.\.>$/;
const RESUMED = /^<\.\.\. ([a-z_0-9]+) resumed>\s?(.*)$/;

/** The calls of a strace transcript. Throws `TraceSyntaxError` on a line it cannot read. */
export function parseStraceTrace(text: string): ParsedTrace {
  const calls: TracedCall[] = [];
  const unmodelled: Record<string, number> = {};
  /** tid -> the start of a call strace split around another thread's output. */
  const pending = new Map<
    number,
    { name: string; args: string; line: number; time: number | null }
  >();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trimEnd();
    if (raw === '') continue;
    const lineNo = i + 1;
    const m = PREFIX.exec(raw)!;
    const tid = Number(m[1] ?? m[2] ?? 0);
    const time = m[3] === undefined ? null : Number(m[3]);
    const rest = m[4]!;
    if (rest.startsWith('---') || rest.startsWith('+++')) continue; // signal, exit
    let name: string;
    let args: string;
    let ret: string;
    let tail: string;
    let startLine = lineNo;
    let startTime = time;
    const unfinished = UNFINISHED.exec(rest);
    if (unfinished) {
      pending.set(tid, { name: unfinished[1]!, args: unfinished[2]!, line: lineNo, time });
      continue;
    }
    const resumed = RESUMED.exec(rest);
    if (resumed) {
      const start = pending.get(tid);
      if (!start || start.name !== resumed[1])
        throw new TraceSyntaxError(lineNo, `"${resumed[1]} resumed" without its start`);
      pending.delete(tid);
      const done = COMPLETE.exec(`${start.name}(${start.args}${resumed[2]}`);
      if (!done) throw new TraceSyntaxError(lineNo, `cannot read the resumed ${start.name} call`);
      [, name, args, ret, tail] = done as unknown as [string, string, string, string, string];
      startLine = start.line;
      startTime = start.time;
    } else {
      const done = COMPLETE.exec(rest);
      if (!done) throw new TraceSyntaxError(lineNo, `not a strace line: ${raw.slice(0, 80)}`);
      [, name, args, ret, tail] = done as unknown as [string, string, string, string, string];
    }
    if (ret === '?' || tail.includes('(INJECTED)')) continue; // no result / the capture's own marks
    const result = parseResult(ret, tail, lineNo);
    const a = splitArgs(args);
    const call = toCall(name, a, lineNo);
    if (call === null) {
      const key = name === 'madvise' ? `madvise(${a[2] ?? ''})` : name;
      unmodelled[key] = (unmodelled[key] ?? 0) + 1;
      continue;
    }
    calls.push({ line: startLine, tid, time: startTime, call, result });
  }
  if (pending.size > 0) {
    const [, first] = [...pending][0]!;
    throw new TraceSyntaxError(first.line, `${first.name} never resumed (truncated trace?)`);
  }
  return { calls, unmodelled };
}

function parseResult(ret: string, tail: string, line: number): number {
  if (ret === '-1') {
    const name = /^\s+([A-Z][A-Z0-9]*)/.exec(tail)?.[1];
    const errno = name === undefined ? undefined : ERRNO_BY_NAME[name];
    if (errno === undefined) throw new TraceSyntaxError(line, `unknown errno in "= -1${tail}"`);
    return -errno;
  }
  return parseNumber(ret, line);
}

/** The call the engine runs for a traced syscall, or null when the engine does not model it. */
function toCall(name: string, a: string[], line: number): TracedSyscall | null {
  const arity = (n: number) => {
    if (a.length < n) throw new TraceSyntaxError(line, `${name} with ${a.length} arguments`);
  };
  switch (name) {
    case 'brk':
      arity(1);
      return { op: 'brk', addr: parseNumber(a[0]!, line) };
    case 'mmap':
      arity(6);
      return {
        op: 'mmap',
        addr: parseNumber(a[0]!, line),
        length: parseNumber(a[1]!, line),
        prot: parseBits(a[2]!, PROT_NAMES, line),
        flags: parseMapFlags(a[3]!, line),
        file: parseFd(a[4]!, line),
        offset: parseNumber(a[5]!, line),
      };
    case 'munmap':
      arity(2);
      return { op: 'munmap', addr: parseNumber(a[0]!, line), length: parseNumber(a[1]!, line) };
    case 'mprotect':
    case 'pkey_mprotect': {
      arity(name === 'mprotect' ? 3 : 4);
      // pkey_mprotect with pkey -1 is mprotect; with a real key the engine has no model of it.
      if (name === 'pkey_mprotect' && parseNumber(a[3]!, line) !== -1) return null;
      return {
        op: 'mprotect',
        addr: parseNumber(a[0]!, line),
        length: parseNumber(a[1]!, line),
        prot: parseBits(a[2]!, PROT_NAMES, line),
      };
    }
    case 'mremap': {
      arity(4);
      const flags = parseBits(a[3]!, MREMAP_NAMES, line);
      return {
        op: 'mremap',
        oldAddr: parseNumber(a[0]!, line),
        oldSize: parseNumber(a[1]!, line),
        newSize: parseNumber(a[2]!, line),
        flags,
        newAddr: a.length > 4 ? parseNumber(a[4]!, line) : 0,
      };
    }
    case 'madvise': {
      arity(3);
      // By name as strace prints it, or a number (an advice strace has no name for).
      const adv = a[2]!;
      const advice = /^\d+$/.test(adv)
        ? Number(adv)
        : Object.hasOwn(MADV_MODELLED, adv)
          ? MADV_MODELLED[adv]
          : undefined;
      if (advice === undefined || !Object.values(MADV_MODELLED).includes(advice)) return null;
      return {
        op: 'madvise',
        addr: parseNumber(a[0]!, line),
        length: parseNumber(a[1]!, line),
        advice,
      };
    }
    case 'prctl': {
      if (a[0] !== 'PR_SET_VMA' || a[1] !== 'PR_SET_VMA_ANON_NAME') return null;
      arity(5);
      return {
        op: 'anon_name',
        addr: parseNumber(a[2]!, line),
        length: parseNumber(a[3]!, line),
        name: parseName(a[4]!, line),
      };
    }
    default:
      return null;
  }
}

/** `0x7f..`, decimal, `NULL`, negative decimal; exact for every value the engine can see. */
function parseNumber(s: string, line: number): number {
  if (s === 'NULL') return 0;
  if (/^-?\d+$/.test(s) || /^0x[0-9a-f]+$/i.test(s)) {
    const n = Number(s);
    if (Number.isSafeInteger(n) || (n >= 2 ** 53 && n % 4096 === 0)) return n;
  }
  throw new TraceSyntaxError(line, `not a number the engine takes: ${s}`);
}

/** `A|B|0x8` with the names of `table`. */
function parseBits(s: string, table: Readonly<Record<string, number>>, line: number): number {
  let v = 0;
  for (const part of s.split('|')) {
    const named = table[part];
    if (named !== undefined && Object.hasOwn(table, part)) v |= named;
    else if (/^(0x[0-9a-f]+|\d+)$/i.test(part)) v |= Number(part);
    else throw new TraceSyntaxError(line, `unknown flag ${part}`);
  }
  return v >>> 0;
}

/** mmap flags: the MAP_* names, and `MAP_HUGE_2MB`-style page-size requests. */
function parseMapFlags(s: string, line: number): number {
  let v = 0;
  for (const part of s.split('|')) {
    const huge = /^MAP_HUGE_(\d+)([KMG])B$/.exec(part);
    if (huge) {
      const bytes = Number(huge[1]) * 1024 ** ' KMG'.indexOf(huge[2]!);
      v |= Math.log2(bytes) << MAP_HUGE_SHIFT;
    } else v |= parseBits(part, MAP_NAMES, line);
  }
  return v >>> 0;
}

/** `-1`, `3`, or `3</usr/lib/libc.so.6>` (strace -y). */
function parseFd(s: string, line: number): TracedFile | null {
  const m = /^(-?\d+)(?:<(.*)>)?$/s.exec(s);
  if (!m) throw new TraceSyntaxError(line, `not an fd: ${s}`);
  const fd = Number(m[1]);
  if (fd < 0) return null;
  return { fd, path: m[2] ?? null };
}

/** A C string as strace prints it (`"name"` with escapes), or NULL. Truncated (`"..."...`): error. */
function parseName(s: string, line: number): string | null {
  if (s === 'NULL') return null;
  if (s.endsWith('...'))
    throw new TraceSyntaxError(line, `name truncated by strace (use -s 256): ${s}`);
  if (!s.startsWith('"') || !s.endsWith('"'))
    throw new TraceSyntaxError(line, `not a string: ${s}`);
  return s.slice(1, -1).replace(/\\(x[0-9a-f]{2}|[0-7]{1,3}|.)/gi, (_, e: string) => {
    if (e[0] === 'x' || e[0] === 'X') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(Number.parseInt(e, 8));
    return ({ n: '\n', t: '\t', r: '\r', v: '\v', f: '\f' } as Record<string, string>)[e] ?? e;
  });
}

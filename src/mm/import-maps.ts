/**
 * `importMaps(text)`: a new `MmStruct` whose /proc/PID/maps is the given real maps text, byte for
 * byte (every line as the kernel prints it: canonical spacing; lines the kernel would print
 * identically are accepted in any spacing).
 *
 * How each line becomes a VMA record (VMAs are inserted as they are: never merged, so adjacent
 * lines with equal fields stay two VMAs, as in the text):
 *   - a path (incl. `\012` and ` (deleted)`, pseudo paths like `/dev/zero (deleted)`,
 *     `/memfd:x (deleted)`, `anon_inode:[...]`): a FileTable identity (path, dev, inode;
 *     unlinked when ` (deleted)`), vm_pgoff = offset / 4096;
 *   - `[heap]`: start_brk = start of the first heap line, brk = end of the last, so the strict
 *     heap rule names exactly those VMAs; without a heap line start_brk = brk = the end of the run
 *     of VMAs that holds the executable (no VMA contains it strictly, so nothing is named heap);
 *   - `[stack]`: start_stack inside the stack VMA (below its top, like argc on a real stack);
 *     without one, start_stack lies in a gap no VMA touches;
 *   - `[vdso]`, `[vvar]`, `[vvar_vclock]`: the special-mapping ops (their names come from ops);
 *   - `[anon:NAME]`: an anon name; `[anon_shmem:NAME]`: a shmem file (dev/inode as printed,
 *     path /dev/zero) plus the anon name;
 *   - any other bracketed name (`[uprobes]`, `[sigpage]`, `[stack:123]`...): the store has no
 *     custom special-mapping names, so it is kept as a file identity whose path is the literal
 *     name with dev 00:00 and inode 0. Maps and query names are identical; the difference is that
 *     a FILE_BACKED_VMA query matches it (documented limitation);
 *   - the `[vsyscall]` gate line must be the last line (x86-64 always has it; the store has no
 *     per-mm "no gate" flag, so a text without it cannot be reproduced and is refused).
 * Hidden VM flags, as the kernel would have set them: VM_MAYREAD|VM_MAYEXEC everywhere, VM_MAYWRITE
 * unless a shared mapping is read-only (an O_RDONLY fd), VM_SHARED for writable shared mappings,
 * VM_ACCOUNT for private writable ones (accountable_mapping), VM_GROWSDOWN|VM_ACCOUNT for the
 * stack, the special mappings' own flags; anonymous VMAs get vm_pgoff = start >> 12 as mmap gives.
 * On an mm whose CPU has protection keys (`pkeys`), `--x` VMAs other than special mappings get
 * the execute-only pkey, as mmap/mprotect(PROT_EXEC) and the ELF loader give them on such a CPU.
 *
 * Invalid or unrepresentable text throws `MapsImportError` (errno EINVAL, or ENOMEM when it
 * exceeds max_map_count) naming the line; nothing is created then.
 */
import { EINVAL, ENOMEM } from './errno.js';
import {
  GATE_END,
  GATE_START,
  KIND_ANON,
  KIND_ANON_NAME,
  KIND_ANON_SHMEM,
  KIND_GATE,
  KIND_HEAP,
  KIND_PATH,
  KIND_SPECIAL,
  KIND_STACK,
  type MapsLine,
  MapsParseError,
  parseMaps,
} from './maps-parse.js';
import { type MmCreateOptions, MmStruct } from './mm-struct.js';
import { SPECIAL_MAPPINGS } from './special-mappings.js';
import { exitMm } from './syscalls/exit.js';
import { importPkeyFlags } from './syscalls/pkey.js';
import { vmaMarkAttached } from './syscalls/vma-lock-hooks.js';
import {
  ANON_VMA_NAME_MAX_LEN,
  PAGE_SIZE,
  PATH_MAX,
  TASK_SIZE,
  VM_ACCOUNT,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from './vm-flags.js';

export class MapsImportError extends Error {
  constructor(
    readonly errno: number,
    readonly lineNo: number,
    reason: string,
  ) {
    super(lineNo > 0 ? `maps line ${lineNo}: ${reason}` : `maps: ${reason}`);
    this.name = 'MapsImportError';
  }
}

const encoder = new TextEncoder();
const SHMEM_PATH = '/dev/zero';
const PROT_BITS = VM_READ | VM_WRITE | VM_EXEC | VM_MAYSHARE;

function fail(l: MapsLine, reason: string): never {
  throw new MapsImportError(EINVAL, l.lineNo, reason);
}

/** Structural checks that need no store: alignment, order, field rules per kind. */
function validate(lines: readonly MapsLine[]): void {
  let prevEnd = 0;
  lines.forEach((l, i) => {
    if (l.kind === KIND_GATE) {
      if (i !== lines.length - 1) fail(l, '[vsyscall] must be the last line');
      if (l.start !== GATE_START || l.end !== GATE_END)
        fail(l, '[vsyscall] not at the gate address');
      return;
    }
    if (l.start % PAGE_SIZE !== 0 || l.end % PAGE_SIZE !== 0) fail(l, 'addresses not page aligned');
    if (l.start >= l.end) fail(l, 'start is not below end');
    if (l.end > TASK_SIZE) fail(l, 'end above TASK_SIZE (0x7ffffffff000)');
    if (l.start < prevEnd) fail(l, 'overlaps or is out of order with the line before');
    prevEnd = l.end;
    if (l.offset % PAGE_SIZE !== 0) fail(l, 'offset not page aligned');
    if (l.devMajor > 0xfff || l.devMinor > 0xfffff) fail(l, 'device number out of range');
    const fileLike = l.kind === KIND_PATH || l.kind === KIND_ANON_SHMEM;
    if (!fileLike && (l.offset !== 0 || l.devMajor !== 0 || l.devMinor !== 0 || l.inode !== 0)) {
      fail(l, 'a VMA without a file prints offset 0, device 00:00 and inode 0');
    }
    if (l.kind === KIND_PATH && encoder.encode(l.name).length >= PATH_MAX) fail(l, 'path too long');
    if (
      (l.kind === KIND_ANON_NAME || l.kind === KIND_ANON_SHMEM) &&
      encoder.encode(l.name).length + 1 > ANON_VMA_NAME_MAX_LEN
    ) {
      fail(l, 'anon name longer than 79 bytes');
    }
    if (l.kind === KIND_SPECIAL && l.name === '[vsyscall]') fail(l, 'misplaced [vsyscall]');
  });
  const last = lines[lines.length - 1];
  if (last === undefined || last.kind !== KIND_GATE) {
    throw new MapsImportError(
      EINVAL,
      lines.length,
      'no [vsyscall] gate line at the end (only x86-64 layouts with vsyscall can be reproduced)',
    );
  }
}

/** Hidden VM_* flags for a line (see the header comment); `pkeys`: the mm's CPU has PKU. */
function vmFlagsOf(l: MapsLine, pkeys: boolean): number {
  let f = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (l.read) f |= VM_READ;
  if (l.write) f |= VM_WRITE;
  if (l.exec) f |= VM_EXEC;
  if (l.shared) {
    f |= VM_MAYSHARE;
    // A shared mapping without PROT_WRITE is taken to come from a read-only fd: the kernel then
    // clears VM_MAYWRITE and VM_SHARED (do_mmap, MAP_SHARED case).
    if (l.write) f |= VM_SHARED;
    else f &= ~VM_MAYWRITE;
  } else if (l.write) {
    f |= VM_ACCOUNT;
  }
  if (l.kind === KIND_STACK) f |= VM_GROWSDOWN | VM_ACCOUNT;
  if (l.kind === KIND_HEAP) f |= VM_ACCOUNT;
  if (l.kind === KIND_SPECIAL) {
    const sm = SPECIAL_MAPPINGS.find((s) => s.name === l.name);
    if (sm !== undefined) f = (sm.vmFlags & ~PROT_BITS) | (f & PROT_BITS);
  }
  f |= importPkeyFlags(pkeys, f, l.kind === KIND_SPECIAL);
  return f >>> 0;
}

/**
 * Where the break starts without a `[heap]` line: the end of the executable's image (the kernel's
 * start_brk is the end of its bss), i.e. the end of its last line (the first file line's path),
 * or of the anonymous bss line right after it. A binary whose segments are not contiguous (a gap
 * between them, as /usr/bin/node has) still ends at its last segment.
 */
function defaultBrk(lines: readonly MapsLine[]): number {
  let i = lines.findIndex((l) => l.kind === KIND_PATH);
  if (i < 0) {
    i = 0;
    while (i + 1 < lines.length && lines[i + 1].start === lines[i].end) i++;
    return lines[i]?.end ?? 0;
  }
  const exe = lines[i].name;
  for (let j = i + 1; j < lines.length && lines[j].kind !== KIND_GATE; j++)
    if (lines[j].kind === KIND_PATH && lines[j].name === exe) i = j;
  const bss = lines[i + 1];
  if (bss !== undefined && bss.kind === KIND_ANON && bss.start === lines[i].end) return bss.end;
  return lines[i].end;
}

/** A page-aligned address inside a gap that touches no VMA (for an mm without a stack line). */
function addressInGap(lines: readonly MapsLine[]): number {
  let prevEnd = 0;
  for (const l of lines) {
    if (l.kind === KIND_GATE) break;
    if (l.start - prevEnd >= 3 * PAGE_SIZE) return l.start - PAGE_SIZE;
    prevEnd = l.end;
  }
  return prevEnd + PAGE_SIZE < TASK_SIZE ? prevEnd + PAGE_SIZE : 0;
}

function placeHeap(mm: MmStruct, lines: readonly MapsLine[]): void {
  const heap = lines.filter((l) => l.kind === KIND_HEAP);
  if (heap.length === 0) {
    mm.startBrk = mm.brk = defaultBrk(lines);
    return;
  }
  mm.startBrk = heap[0].start;
  mm.brk = heap[heap.length - 1].end;
}

function placeStack(mm: MmStruct, lines: readonly MapsLine[]): void {
  const stack = lines.filter((l) => l.kind === KIND_STACK);
  if (stack.length === 0) {
    mm.startStack = addressInGap(lines);
  } else if (stack.length === 2 && stack[0].end === stack[1].start) {
    // Two VMAs both contain start_stack only when it is their shared boundary.
    mm.startStack = stack[0].end;
  } else if (stack.length === 1) {
    const s = stack[0];
    mm.startStack = s.end - Math.min(0x2000, (s.end - s.start) / 2);
  } else {
    fail(stack[stack.length - 1], 'more [stack] lines than the kernel can name');
  }
}

/**
 * Checks that the heap/stack rules of get_vma_name() (strict heap, inclusive stack; a file or a
 * special name wins over both) name exactly the lines that say [heap]/[stack].
 */
function checkNames(mm: MmStruct, lines: readonly MapsLine[]): void {
  for (const l of lines) {
    if (l.kind === KIND_GATE || l.kind === KIND_PATH || l.kind === KIND_ANON_SHMEM) continue;
    if (l.kind === KIND_SPECIAL) continue;
    const heap = l.start < mm.brk && l.end > mm.startBrk;
    const stack = !heap && l.start <= mm.startStack && l.end >= mm.startStack;
    if (heap !== (l.kind === KIND_HEAP))
      fail(l, "the kernel's [heap] rule cannot name these lines");
    if (stack !== (l.kind === KIND_STACK))
      fail(l, "the kernel's [stack] rule cannot name these lines");
  }
}

/** Header statistics as vm_stat_account() keeps them (pages). */
function accountVm(mm: MmStruct, lines: readonly MapsLine[], flags: readonly number[]): void {
  let total = 0;
  let data = 0;
  let exec = 0;
  let stack = 0;
  lines.forEach((l, i) => {
    if (l.kind === KIND_GATE) return;
    const pages = (l.end - l.start) / PAGE_SIZE;
    const f = flags[i];
    total += pages;
    if ((f & (VM_EXEC | VM_WRITE | VM_GROWSDOWN)) === VM_EXEC) exec += pages;
    else if (f & VM_GROWSDOWN) stack += pages;
    else if ((f & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) === VM_WRITE) data += pages;
  });
  mm.totalVm = total;
  mm.dataVm = data;
  mm.execVm = exec;
  mm.stackVm = stack;
}

/** The file identity a line maps (0 for anonymous kinds), with a reference for the caller. */
function fileOf(mm: MmStruct, l: MapsLine): number {
  let id = 0;
  if (l.kind === KIND_PATH) {
    id = mm.internFile({
      path: l.name,
      devMajor: l.devMajor,
      devMinor: l.devMinor,
      inode: l.inode,
    });
    if (id > 0 && l.deleted) mm.files.markDeleted(id);
  } else if (l.kind === KIND_ANON_SHMEM) {
    id = mm.internFile({
      path: SHMEM_PATH,
      devMajor: l.devMajor,
      devMinor: l.devMinor,
      inode: l.inode,
    });
    if (id > 0) mm.files.markDeleted(id);
  } else if (l.kind === KIND_SPECIAL && SPECIAL_MAPPINGS.every((s) => s.name !== l.name)) {
    id = mm.internFile({ path: l.name, devMajor: 0, devMinor: 0, inode: 0 });
  } else {
    return 0;
  }
  if (id < 0) throw new MapsImportError(-id, l.lineNo, 'the global file table refused the file');
  return id;
}

/** Parses `text` and builds the address space. Throws MapsImportError / MapsParseError (EINVAL). */
export function importMaps(text: string, opts: MmCreateOptions = {}): MmStruct {
  const mm = MmStruct.create(opts);
  try {
    buildFromMaps(mm, text);
  } catch (e) {
    exitMm(mm); // a failed import keeps no file or anon name reference
    throw e;
  }
  return mm;
}

function buildFromMaps(mm: MmStruct, text: string): void {
  let lines: MapsLine[];
  try {
    lines = parseMaps(text);
  } catch (e) {
    if (e instanceof MapsParseError) throw new MapsImportError(EINVAL, e.lineNo, e.message);
    throw e;
  }
  validate(lines);
  const vmaLines = lines.length - 1; // all but the gate
  if (vmaLines > mm.maxMapCount) {
    throw new MapsImportError(ENOMEM, 0, `${vmaLines} VMAs exceed max_map_count ${mm.maxMapCount}`);
  }
  placeHeap(mm, lines);
  placeStack(mm, lines);
  checkNames(mm, lines);
  const flags: number[] = lines.map((l) => vmFlagsOf(l, mm.pkeys));
  let count = 0;
  let exe = 0;
  for (let i = 0; i < vmaLines; i++) {
    const l = lines[i];
    const id = mm.allocVma();
    if (id === 0) throw new MapsImportError(ENOMEM, l.lineNo, 'VMA arena full');
    const file = fileOf(mm, l);
    const t = mm.vmas;
    t.setRange(id, l.start, l.end, file !== 0 ? l.offset / PAGE_SIZE : l.start / PAGE_SIZE);
    t.setFlags(id, flags[i]);
    mm.setVmaFile(id, file);
    mm.putFile(file); // the VMA holds its own reference
    const sm =
      l.kind === KIND_SPECIAL ? SPECIAL_MAPPINGS.find((s) => s.name === l.name) : undefined;
    t.setOps(id, sm?.ops ?? 0);
    t.setAnonName(id, 0);
    if (l.kind === KIND_ANON_NAME || l.kind === KIND_ANON_SHMEM) {
      const handle = mm.anonNames.alloc(l.name);
      if (handle < 0) {
        mm.discardVma(id); // not indexed: exitMm would not see its file reference
        throw new MapsImportError(-handle, l.lineNo, 'anon name refused');
      }
      t.setAnonName(id, handle); // the record owns the allocation's reference
    }
    if (exe === 0 && l.kind === KIND_PATH && l.exec) exe = file;
    vmaMarkAttached(mm, id);
    mm.indexStore(id);
    count++;
  }
  mm.mapCount = count;
  mm.setExeFile(exe); // a VMA of this mm holds the file: exe is still referenced
  mm.mmapBase = mmapBaseOf(lines);
  accountVm(mm, lines, flags);
}

/** mmap_base: just above the highest mapping below the stack (where ld.so was placed top-down). */
function mmapBaseOf(lines: readonly MapsLine[]): number {
  const stack = lines.find((l) => l.kind === KIND_STACK);
  const limit = stack ? stack.start : TASK_SIZE;
  let base = 0;
  for (const l of lines) if (l.kind !== KIND_GATE && l.end <= limit && l.end > base) base = l.end;
  return base === 0 ? TASK_SIZE - (128 << 20) : base;
}

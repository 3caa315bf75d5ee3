// The engine side of the differential test: start from the helper's header (its initial maps,
// stat fields, files), replay the script through src/mm/syscalls, and print the transcript body in
// the helper's format (transcript.ts describes it).
//
// What the helper does outside the mm is done here: file descriptors (mmap's EBADF and the x86
// `off & ~PAGE_MASK` EINVAL, both checked before the mm is touched) and unlink (the file table's
// deleted flag).

import { hostThpMode } from '../../src/machine-caps.js';
import { EBADF, EINVAL, ENOENT } from '../../src/mm/errno.js';
import { importMaps } from '../../src/mm/import-maps.js';
import { MmGlobals, type MmStruct } from '../../src/mm/mm-struct.js';
import { pagesTablesOver } from '../../src/mm/pages/page-hooks.js';
import { setFileSize } from '../../src/mm/pages/page-objects.js';
import { prctlSetVmaAnonName } from '../../src/mm/syscalls/anon-name.js';
import { populateVma } from '../../src/mm/syscalls/anon-vma.js';
import { brk } from '../../src/mm/syscalls/brk.js';
import { exitMm, forkMm } from '../../src/mm/syscalls/fork.js';
import { madvise } from '../../src/mm/syscalls/madvise.js';
import { mmap } from '../../src/mm/syscalls/mmap.js';
import { mprotect } from '../../src/mm/syscalls/mprotect.js';
import { mremap } from '../../src/mm/syscalls/mremap.js';
import { munmap } from '../../src/mm/syscalls/munmap.js';
import { touch } from '../../src/mm/syscalls/touch.js';
import { touchErrno, touchFaults } from '../../src/mm/syscalls/touch-result.js';
import { VM_WRITE } from '../../src/mm/vm-flags.js';
import { ByteSink } from '../../src/procfs/byte-sink.js';
import { MapsCursor, readWholeMaps } from '../../src/procfs/maps-text.js';
import { procmapQuery } from '../../src/procfs/procmap-query.js';
import { readSmapsChunk, readSmapsRollup } from '../../src/procfs/smaps-text.js';
import { readVmCounters, VmCounters, writeStatus } from '../../src/procfs/status-text.js';
import { createReaderContext, type ReaderContext } from '../../src/procfs/strategies/strategy.js';
import { directMapsWalker, directQueryTarget } from '../../src/procfs/vma-capture.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import { pkeysOf } from './host-capabilities.js';
import { querySuite } from './query-suite.js';
import { FD_NONE, FILE_PAGES, type Op } from './script.js';
import type { OracleHeader } from './transcript.js';

const PAGE = 0x1000;
const MAP_ANONYMOUS = 0x20;

function hexResult(r: number): string {
  return r < 0 ? `${r}` : `0x${BigInt(r).toString(16)}`;
}

function mapsText(mm: MmStruct): string {
  return Buffer.from(readWholeMaps(directMapsWalker(mm))).toString('latin1');
}

/** The lengths of successive 4096-byte read()s of the maps file (MapsCursor chunks). */
function chunkSizes(mm: MmStruct): string {
  const cursor = new MapsCursor(4096);
  const walker = directMapsWalker(mm);
  const sizes: number[] = [];
  for (;;) {
    const n = cursor.readChunk(walker);
    if (n <= 0) break;
    sizes.push(n);
  }
  return ['chunks4096', ...sizes].join(' ');
}

/** smaps_rollup, status and smaps as the engine's formatters print them (oracle-memory.h order). */
function pushMemory(out: string[], mm: MmStruct, ctx: ReaderContext): void {
  const sink = new ByteSink();
  readSmapsRollup(ctx, mm, sink);
  pushBlock(out, 'rollup', sink.toLatin1());
  sink.clear();
  const counters = new VmCounters();
  readVmCounters(ctx, mm, counters);
  writeStatus(sink, { pid: 1, ppid: 0, comm: 'exe' }, mm, counters);
  pushBlock(out, 'status', sink.toLatin1());
  sink.clear();
  ctx.position.rewind();
  while (readSmapsChunk(ctx, mm, ctx.position, 0, sink) > 0) {}
  pushBlock(out, 'smaps', sink.toLatin1());
}

function pushBlock(out: string[], tag: string, text: string): void {
  out.push(`${tag}-begin`);
  for (const l of text.split('\n')) if (l !== '') out.push(l);
  out.push(`${tag}-end`);
}

interface HelperMapping {
  start: number;
  end: number;
  perms: string;
  name: string;
}

/** The helper's own mappings, from its header. */
function helperMappings(header: OracleHeader): HelperMapping[] {
  const out: HelperMapping[] = [];
  for (const line of header.initialMaps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m === null) continue;
    const [, s, e, perms, name] = m;
    out.push({
      start: Number.parseInt(s!, 16),
      end: Number.parseInt(e!, 16),
      perms: perms!,
      name: name!,
    });
  }
  return out;
}

/**
 * The page tables the helper's child has again after prefault_after_fork(): fork copies none of
 * its read-only file mappings' (no anon_vma), which it reads again, and it rewrites its writable
 * mappings (not the heap) and its stack. The engine's child has those tables back too.
 */
function retouchAfterFork(mm: MmStruct, header: OracleHeader): void {
  for (const v of helperMappings(header)) {
    const special = v.name.startsWith('[') && v.name !== '[heap]';
    const readOnlyFile = v.perms.startsWith('r-') && v.name.startsWith('/') && !special;
    const writable = v.perms.startsWith('rw') && !special && v.name !== '[heap]';
    if (readOnlyFile || writable || v.name === '[stack]') pagesTablesOver(mm, v.start, v.end);
  }
}

/** The engine's address space for the helper right after its start. */
export function engineFromHeader(header: OracleHeader): {
  mm: MmStruct;
  fileIds: number[];
  rdwr: boolean[];
} {
  const globals = MmGlobals.create();
  // The binary first, with its build ID, so that importing the maps finds this identity.
  const binaryLine = header.initialMaps.split('\n')[0]!;
  const w = binaryLine.split(/\s+/);
  const [major, minor] = w[3]!.split(':').map((h) => Number.parseInt(h, 16));
  globals.files.intern({
    path: header.binaryPath,
    devMajor: major!,
    devMinor: minor!,
    inode: Number(w[4]),
    buildId: Buffer.from(header.binaryBuildId, 'hex'),
  });
  // The machine the helper ran on: with protection keys or without (host-capabilities.ts), with
  // the zero page or without.
  const mm = importMaps(header.initialMaps, {
    globals,
    maxVmas: header.maxMapCount,
    pkeys: pkeysOf(header).pkeys,
    noZeroPage: !header.zeroPage,
    // The host's transparent huge page mode (its sysfs file; the helper runs on this machine).
    thp: hostThpMode(),
  });
  // hiwater_vm: the helper's peak before the script (exec and the loader unmapped memory).
  mm.hiwaterVm = header.vmPeakKb / 4;
  mm.startCode = header.stat.start_code!;
  mm.endCode = header.stat.end_code!;
  mm.startData = header.stat.start_data!;
  mm.endData = header.stat.end_data!;
  mm.startBrk = header.stat.start_brk!;
  mm.brk = header.stat.brk!;
  mm.startStack = header.stat.start_stack!;
  // The vDSO is the first top-down mapping exec makes, so it ends at mmap_base (the oracle test
  // checks that this is TASK_SIZE - 128 MiB, mmap_base() without randomisation).
  const vdso = header.initialMaps.split('\n').find((l) => l.endsWith(' [vdso]'));
  if (!vdso) throw new Error('the helper has no [vdso] mapping');
  mm.mmapBase = Number.parseInt(vdso.split(/[- ]/)[1]!, 16);
  // The helper's written memory (data, bss, heap, stack) has anon_vmas in the real process; they
  // decide merges later (brk in a fork child cannot expand an inherited heap). populateVma gives
  // one as a write fault would; read-only ones (RELRO data, written before mprotect) included.
  for (const start of header.anonVmaStarts) {
    const id = mm.vmaLookup(start);
    if (id === 0) throw new Error(`no imported VMA at anon_vma start ${start.toString(16)}`);
    const flags = mm.vmas.flags(id);
    mm.vmas.setFlags(id, flags | VM_WRITE);
    populateVma(mm, id);
    mm.vmas.setFlags(id, (mm.vmas.flags(id) & ~VM_WRITE) | (flags & VM_WRITE));
  }
  // The helper has touched every page it can read before the header (prefault_self), so the
  // kernel has the page tables of every region its mappings meet; the engine starts with the
  // same (a region's tables decide later faults there: pmd_none, fault-around past EOF; and
  // VmPTE). Not [vsyscall] (no user page table maps it) nor inaccessible mappings.
  for (const v of helperMappings(header)) {
    if (v.name !== '[vsyscall]' && !v.perms.startsWith('---')) pagesTablesOver(mm, v.start, v.end);
  }
  const fileIds = header.files.map((f) =>
    globals.files.intern({ path: f.path, devMajor: f.major, devMinor: f.minor, inode: f.inode }),
  );
  // The files' sizes (FILE_PAGES pages each): a fault past the end is SIGBUS.
  mm.pages.lock();
  try {
    for (const id of fileIds) setFileSize(mm.pages, id, false, FILE_PAGES * PAGE);
  } finally {
    mm.pages.unlock();
  }
  return { mm, fileIds, rdwr: header.files.map((f) => f.rdwr) };
}

/** Replays `ops` and appends the transcript body to `out` (an EngineReplay). */
export function engineReplay(ops: readonly Op[], header: OracleHeader, out: string[]): void {
  const start = engineFromHeader(header);
  const { fileIds, rdwr } = start;
  let mm = start.mm;
  const unlinked = new Set<number>();
  const probes: number[] = [];
  const query = (
    args: Parameters<typeof procmapQuery>[0],
    res: Parameters<typeof procmapQuery>[2],
  ) => procmapQuery(args, directQueryTarget(mm), res);
  const reader = createReaderContext({ rcu: RcuDomain.create(), recorder: null });
  let opIndex = 0;
  for (const o of ops) {
    const i = opIndex++;
    let r: number;
    switch (o.op) {
      case 'mmap': {
        if (o.off % PAGE !== 0) r = -EINVAL;
        else if (o.flags & MAP_ANONYMOUS) r = mmap(mm, o.addr, o.len, o.prot, o.flags);
        else if (o.fd === FD_NONE || fileIds[o.fd] === undefined) r = -EBADF;
        else {
          const file = { fileId: fileIds[o.fd]!, offset: o.off, writable: rdwr[o.fd]! };
          r = mmap(mm, o.addr, o.len, o.prot, o.flags, file);
        }
        break;
      }
      case 'munmap':
        r = munmap(mm, o.addr, o.len);
        break;
      case 'mprotect':
        r = mprotect(mm, o.addr, o.len, o.prot);
        break;
      case 'mremap':
        r = mremap(mm, o.addr, o.oldLen, o.newLen, o.flags, o.newAddr);
        break;
      case 'brk':
        r = brk(mm, o.addr);
        break;
      case 'anon':
        r = prctlSetVmaAnonName(mm, o.addr, o.len, o.name);
        break;
      case 'unlink':
        if (unlinked.has(o.file)) r = -ENOENT;
        else {
          unlinked.add(o.file);
          mm.files.markDeleted(fileIds[o.file]!);
          r = 0;
        }
        break;
      case 'fork': {
        const child = forkMm(mm);
        out.push(`fork-child ${i}`);
        pushBlock(out, 'forkmaps', mapsText(child));
        exitMm(child);
        r = 0;
        break;
      }
      case 'forkchild': {
        // The child carries on; the parent stays alive (it waits for the child), so its VMAs
        // keep their share of the anon_vmas.
        mm = forkMm(mm);
        retouchAfterFork(mm, header);
        r = 0;
        break;
      }
      case 'probe':
        probes.push(o.addr);
        continue;
      case 'touch': {
        // The helper counts faults (getrusage); a refused access is EFAULT whatever the reason.
        const t = touch(mm, o.addr, o.len, o.write, null);
        r = t < 0 ? -touchErrno(t) : touchFaults(t);
        break;
      }
      case 'madvise':
        r = madvise(mm, o.addr, o.len, o.advice);
        break;
      case 'check':
        out.push(`check ${i}`);
        pushBlock(out, 'maps', mapsText(mm));
        out.push(chunkSizes(mm));
        querySuite(query, probes, out);
        pushMemory(out, mm, reader);
        out.push('check-end');
        continue;
    }
    out.push(`r ${i} ${hexResult(r)}`);
  }
  out.push(`done ${opIndex}`);
}

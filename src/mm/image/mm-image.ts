/**
 * The logical image of one address space: the mm_struct fields, then the VMAs in address order
 * as columns (start, end, pgoff, vm_flags, file ref, anon-name ref, special-mapping ops). It is
 * what /proc/PID/maps, PROCMAP_QUERY and every later syscall depend on, and nothing else: no lock
 * words, no index nodes, no record ids or generations, no RCU retire ring, no free lists. A
 * restore rebuilds the arena with the current layout code, so the image survives changes to the
 * arena layout (docs/durable-state.md says why the format is logical).
 *
 * `captureMm` must run while `mm` is read-locked (mmap read lock) or otherwise quiescent.
 */
import {
  MACHINE_CAP_NO_ZERO_PAGE,
  MACHINE_CAP_PKEYS,
  MACHINE_CAP_THP_ALWAYS,
  MACHINE_CAP_THP_NEVER,
} from '../arena-layout.js';
import { type MmCreateOptions, MmStruct } from '../mm-struct.js';
import type { ThpMode } from '../pages/thp.js';
import { OPS_DUMMY } from '../special-mappings.js';
import { exitMm } from '../syscalls/exit.js';
import { vmaMarkAttached } from '../syscalls/vma-lock-hooks.js';
import { PAGE_SIZE, TASK_SIZE } from '../vm-flags.js';
import { type ByteReader, type ByteWriter, ImageFormatError } from './byte-buffer.js';
import type { TableCapture, TableRestore } from './table-image.js';

/** The mm_struct fields an image carries, in this order (Float64 each). */
const HEADER_FIELDS = [
  'startCode',
  'endCode',
  'startData',
  'endData',
  'startBrk',
  'brk',
  'startStack',
  'mmapBase',
  'argStart',
  'totalVm',
  'lockedVm',
  'dataVm',
  'execVm',
  'stackVm',
  'hiwaterVm', // v4
] as const satisfies readonly (keyof MmStruct)[];
/** HEADER_FIELDS written before v4 (no hiwater_vm: it restores as 0, VmPeak = VmSize). */
const HEADER_FIELDS_V3 = HEADER_FIELDS.length - 1;

/** Every MACHINE_CAP_* bit an image may carry (v4; v2-v3: protection keys only). */
const IMAGE_CAPS =
  MACHINE_CAP_PKEYS | MACHINE_CAP_NO_ZERO_PAGE | MACHINE_CAP_THP_ALWAYS | MACHINE_CAP_THP_NEVER;
/** The format that first recorded the zero-page capability and the THP mode. */
const FULL_CAPS_VERSION = 4;

/** Largest max_map_count an image may ask for (the kernel's sysctl is an int; ours sizes an arena). */
const MAX_MAX_VMAS = 1 << 24;

export interface MmImage {
  maxVmas: number;
  /**
   * MACHINE_CAP_* bits the mm was created with: protection keys, and (v4, `fullCaps`) the
   * zero-page capability and the THP mode.
   */
  machineCaps: number;
  /** Whether machineCaps records the zero page and THP mode (v4); else the service's apply. */
  fullCaps: boolean;
  header: Float64Array;
  /** exe_file as a file ref (0 none). */
  exeFile: number;
  count: number;
  start: Float64Array;
  end: Float64Array;
  pgoff: Float64Array;
  flags: Uint32Array;
  file: Uint32Array;
  anonName: Uint32Array;
  ops: Uint8Array;
}

/** The image of `mm` (read-locked by the caller); file and name refs are taken in `tables`. */
export function captureMm(mm: MmStruct, tables: TableCapture): MmImage {
  const n = mm.mapCount;
  const img: MmImage = {
    maxVmas: mm.maxMapCount,
    machineCaps:
      (mm.pkeys ? MACHINE_CAP_PKEYS : 0) |
      (mm.noZeroPage ? MACHINE_CAP_NO_ZERO_PAGE : 0) |
      (mm.thpMode === 'always' ? MACHINE_CAP_THP_ALWAYS : 0) |
      (mm.thpMode === 'never' ? MACHINE_CAP_THP_NEVER : 0),
    fullCaps: true,
    header: Float64Array.from(HEADER_FIELDS, (f) => mm[f]),
    exeFile: tables.fileRef(mm.exeFile),
    count: 0,
    start: new Float64Array(n),
    end: new Float64Array(n),
    pgoff: new Float64Array(n),
    flags: new Uint32Array(n),
    file: new Uint32Array(n),
    anonName: new Uint32Array(n),
    ops: new Uint8Array(n),
  };
  const v = mm.vmas;
  let i = 0;
  for (const id of mm.vmasInRange()) {
    if (i === n) throw new Error(`captureMm: more VMAs in the index than map_count ${n}`);
    img.start[i] = v.start(id);
    img.end[i] = v.end(id);
    img.pgoff[i] = v.pgoff(id);
    img.flags[i] = v.flags(id);
    img.file[i] = tables.fileRef(v.file(id));
    img.anonName[i] = tables.nameRef(v.anonName(id));
    img.ops[i] = v.ops(id);
    i++;
  }
  img.count = i;
  return img;
}

/** The THP mode an image records (null: written before v4, the service's applies). */
export function imageThpMode(img: MmImage): ThpMode | null {
  if (!img.fullCaps) return null;
  if (img.machineCaps & MACHINE_CAP_THP_ALWAYS) return 'always';
  return img.machineCaps & MACHINE_CAP_THP_NEVER ? 'never' : 'madvise';
}

/**
 * A new address space from `img`; refs resolve through `tables`. Not yet shared with anyone.
 * It keeps the machine capabilities it was captured with (a v4 image: protection keys, zero
 * page, THP mode), so its smaps and later faults are those it would have had without the
 * restart; `opts` gives the rest (and, for older images, the zero page and THP mode).
 */
export function buildMm(img: MmImage, tables: TableRestore, opts: MmCreateOptions): MmStruct {
  const pkeys = (img.machineCaps & MACHINE_CAP_PKEYS) !== 0;
  const caps: MmCreateOptions = { ...opts, maxVmas: img.maxVmas, pkeys };
  if (img.fullCaps) {
    caps.noZeroPage = (img.machineCaps & MACHINE_CAP_NO_ZERO_PAGE) !== 0;
    caps.thp = imageThpMode(img) ?? undefined;
  }
  const mm = MmStruct.create(caps);
  HEADER_FIELDS.forEach((f, i) => {
    mm[f] = img.header[i];
  });
  // total_vm is the pages the VMAs cover (syscalls/index-ops.ts keeps it so); images written
  // before it was kept carry a stale value.
  let totalVm = 0;
  for (let i = 0; i < img.count; i++) totalVm += (img.end[i] - img.start[i]) / PAGE_SIZE;
  mm.totalVm = totalVm;
  try {
    mm.setExeFile(tables.fileId(img.exeFile));
    const v = mm.vmas;
    for (let i = 0; i < img.count; i++) {
      const file = tables.fileId(img.file[i]);
      const name = tables.nameHandle(img.anonName[i]);
      const id = mm.allocVma();
      if (id === 0) {
        mm.anonNames.put(name);
        throw new RangeError('buildMm: arena full');
      }
      v.setRange(id, img.start[i], img.end[i], img.pgoff[i]);
      v.setFlags(id, img.flags[i]);
      mm.setVmaFile(id, file);
      v.setAnonName(id, name);
      v.setOps(id, img.ops[i]);
      vmaMarkAttached(mm, id);
      mm.indexStore(id);
    }
  } catch (err) {
    exitMm(mm); // a failed build keeps no file or anon name reference
    throw err;
  }
  mm.mapCount = img.count;
  return mm;
}

/**
 * Writes the current format's image (v2: machine caps after max_map_count; v4: every cap bit,
 * hiwater_vm after the other mm fields).
 */
export function writeMmImage(w: ByteWriter, img: MmImage): void {
  w.u32(img.maxVmas);
  w.u32(img.machineCaps);
  w.f64s(img.header, HEADER_FIELDS.length);
  w.u32(img.exeFile);
  w.u32(img.count);
  w.f64s(img.start, img.count);
  w.f64s(img.end, img.count);
  w.f64s(img.pgoff, img.count);
  w.u32s(img.flags, img.count);
  w.u32s(img.file, img.count);
  w.u32s(img.anonName, img.count);
  w.u8s(img.ops, img.count);
}

/**
 * Reads and checks one image: every rule a live mm keeps (sorted, page-aligned, non-overlapping
 * VMAs below TASK_SIZE, at most max_map_count of them, refs inside the tables), so a restore
 * never builds an address space the engine could not have produced.
 *
 * Format v1 had no machine caps: every mm then behaved as on a CPU with protection keys, so a v1
 * image restores with them. Before v4 the caps held protection keys only and the mm fields had
 * no hiwater_vm (restored as 0).
 */
export function readMmImage(
  r: ByteReader,
  version: number,
  nFiles: number,
  nNames: number,
): MmImage {
  const maxVmas = r.u32('max_map_count');
  if (maxVmas < 1 || maxVmas > MAX_MAX_VMAS) {
    throw new ImageFormatError(`max_map_count ${maxVmas} out of range`);
  }
  const fullCaps = version >= FULL_CAPS_VERSION;
  const machineCaps = version >= 2 ? r.u32('machine caps') : MACHINE_CAP_PKEYS;
  const known = fullCaps ? IMAGE_CAPS : MACHINE_CAP_PKEYS;
  const thpBoth = MACHINE_CAP_THP_ALWAYS | MACHINE_CAP_THP_NEVER;
  if ((machineCaps & ~known) !== 0 || (machineCaps & thpBoth) === thpBoth) {
    throw new ImageFormatError(`unknown machine caps 0x${machineCaps.toString(16)}`);
  }
  const header = new Float64Array(HEADER_FIELDS.length);
  header.set(r.f64s(fullCaps ? HEADER_FIELDS.length : HEADER_FIELDS_V3, 'mm header'));
  for (let i = 0; i < header.length; i++) {
    if (!Number.isSafeInteger(header[i]) || header[i] < 0) {
      throw new ImageFormatError(`mm header ${HEADER_FIELDS[i]} = ${header[i]}`);
    }
  }
  const exeFile = r.u32('exe_file');
  if (exeFile > nFiles) throw new ImageFormatError(`exe_file ref ${exeFile} > ${nFiles} files`);
  const count = r.u32('VMA count');
  if (count > maxVmas) throw new ImageFormatError(`${count} VMAs exceed max_map_count ${maxVmas}`);
  const img: MmImage = {
    maxVmas,
    machineCaps,
    fullCaps,
    header,
    exeFile,
    count,
    start: r.f64s(count, 'vm_start'),
    end: r.f64s(count, 'vm_end'),
    pgoff: r.f64s(count, 'vm_pgoff'),
    flags: r.u32s(count, 'vm_flags'),
    file: r.u32s(count, 'vm_file'),
    anonName: r.u32s(count, 'anon name'),
    ops: r.u8s(count, 'ops'),
  };
  let prevEnd = 0;
  for (let i = 0; i < count; i++) {
    const s = img.start[i];
    const e = img.end[i];
    const bad =
      !(s % PAGE_SIZE === 0 && e % PAGE_SIZE === 0 && s >= prevEnd && s < e && e <= TASK_SIZE) ||
      !Number.isSafeInteger(img.pgoff[i]) ||
      img.pgoff[i] < 0 ||
      img.file[i] > nFiles ||
      img.anonName[i] > nNames ||
      img.ops[i] > OPS_DUMMY;
    if (bad)
      throw new ImageFormatError(`VMA ${i} [${s.toString(16)}, ${e.toString(16)}) is invalid`);
    prevEnd = e;
  }
  return img;
}

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
import { MACHINE_CAP_PKEYS } from '../arena-layout.js';
import { type MmCreateOptions, MmStruct } from '../mm-struct.js';
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
] as const satisfies readonly (keyof MmStruct)[];

/** Largest max_map_count an image may ask for (the kernel's sysctl is an int; ours sizes an arena). */
const MAX_MAX_VMAS = 1 << 24;

export interface MmImage {
  maxVmas: number;
  /** MACHINE_CAP_* bits the mm was created with (protection keys). */
  machineCaps: number;
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
    machineCaps: mm.pkeys ? MACHINE_CAP_PKEYS : 0,
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

/** A new address space from `img`; refs resolve through `tables`. Not yet shared with anyone. */
export function buildMm(img: MmImage, tables: TableRestore, opts: MmCreateOptions): MmStruct {
  const pkeys = (img.machineCaps & MACHINE_CAP_PKEYS) !== 0;
  const mm = MmStruct.create({ ...opts, maxVmas: img.maxVmas, pkeys });
  HEADER_FIELDS.forEach((f, i) => {
    mm[f] = img.header[i];
  });
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

/** Writes the current format's image (v2: machine caps after max_map_count). */
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
 * image restores with them.
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
  const machineCaps = version >= 2 ? r.u32('machine caps') : MACHINE_CAP_PKEYS;
  if ((machineCaps & ~MACHINE_CAP_PKEYS) !== 0) {
    throw new ImageFormatError(`unknown machine caps 0x${machineCaps.toString(16)}`);
  }
  const header = r.f64s(HEADER_FIELDS.length, 'mm header');
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

/**
 * Page state in a snapshot (format v3): each process's page-table runs, and the page objects
 * (file, shmem, fork-shared anonymous) they refer to, numbered 1.. in the order first met
 * ("object refs"), so the image holds no pool record numbers.
 *
 *   objects (once per snapshot, after the tables):
 *     u32 n, per object: u8 kind (page-objects.ts OBJ_*), f64 size in pages (-1 unknown),
 *     u32 file ref (0 for an anonymous object), u32 m, f64[m] first page, u32[m] pages,
 *     u32[m] flags (OBJ_DIRTY / OBJ_RESIDENT runs)
 *   per process, after its mm image:
 *     f64 hiwater_rss pages, u32 n, f64[n] first virtual page, f64[n] object page,
 *     u32[n] pages, u32[n] PTE bits, u32[n] object ref (0: exclusive anonymous pages)
 *     v5: u32 t, f64[t] first table key, u32[t] tables (table-regions.ts: the bare page tables,
 *     those that outlived their pages, as runs of regions of one level); before v5 a process has
 *     the tables its pages imply
 *
 * Mapcounts are not stored: a restore counts every run that maps an object page, so they agree
 * with the restored processes by construction (processes are captured one after the other, so
 * captured mapcounts could disagree with the captured runs). Capture runs under each mm's mmap
 * read lock, taking the page lock while it reads the runs.
 */
import type { MmStruct } from '../mm-struct.js';
import {
  adjustObject,
  createObject,
  fileObject,
  OBJ_ANON,
  OBJ_SHMEM,
  objHeadWord,
  objKind,
  objSize,
} from '../pages/page-objects.js';
import type { PagePool } from '../pages/page-pool.js';
import { mapRun, runsWord, tableHead } from '../pages/page-table.js';
import { addTableRuns, tableRuns, validTableRun } from '../pages/table-regions.js';
import { TASK_SIZE } from '../vm-flags.js';
import { type ByteReader, type ByteWriter, ImageFormatError } from './byte-buffer.js';
import { ImageRestoreError, type TableCapture, type TableRestore } from './table-image.js';

export interface ObjectImage {
  kind: number;
  size: number;
  fileRef: number;
  first: number[];
  pages: number[];
  flags: number[];
}

export interface MmPagesImage {
  hiwater: number;
  first: Float64Array;
  opage: Float64Array;
  pages: Uint32Array;
  bits: Uint32Array;
  obj: Uint32Array;
  /** Bare table runs as [key, count] pairs (v5), or null: none (an image before v5). */
  tables: number[] | null;
}

/** PTE bits a run may carry (page-table.ts PTE_*, page-fault.ts PTE_PROTNONE). */
const PTE_BITS_MASK = 0x1ff;
const MAX_PAGE = TASK_SIZE / 4096;

/** The objects met while capturing; one per snapshot, shared by every process's capture. */
export class PageCapture {
  readonly objects: ObjectImage[] = [];
  private readonly refs = new Map<number, number>();

  /** Ref of pool object `obj` (page lock held), whose file (if any) is VMA file `fileId`. */
  objRef(pool: PagePool, obj: number, fileId: number, tables: TableCapture): number {
    let ref = this.refs.get(obj);
    if (ref !== undefined) return ref;
    const kind = objKind(pool, obj);
    const img: ObjectImage = {
      kind,
      size: objSize(pool, obj),
      fileRef: kind === OBJ_ANON ? 0 : tables.fileRef(fileId),
      first: [],
      pages: [],
      flags: [],
    };
    for (let r = pool.i32[objHeadWord(pool, obj)]; r !== 0; r = pool.next(r)) {
      if (pool.obj(r) === 0) continue;
      img.first.push(pool.key(r));
      img.pages.push(pool.count(r));
      img.flags.push(pool.obj(r));
    }
    this.objects.push(img);
    ref = this.objects.length;
    this.refs.set(obj, ref);
    return ref;
  }
}

/** The page state of `mm` (mmap read-locked by the caller). */
export function captureMmPages(
  mm: MmStruct,
  tables: TableCapture,
  objects: PageCapture,
): MmPagesImage {
  const pool = mm.pages;
  const first: number[] = [];
  const opage: number[] = [];
  const pages: number[] = [];
  const bits: number[] = [];
  const obj: number[] = [];
  let hiwater = 0;
  let tableList: number[] = [];
  pool.lock();
  try {
    // Shmem objects keep pages nobody maps: met through their VMAs, not only through runs.
    for (const id of mm.vmasInRange()) {
      const f = mm.vmas.file(id);
      if (f !== 0 && mm.files.isShmem(f) && pool.fileObject(f) !== 0) {
        objects.objRef(pool, pool.fileObject(f), f, tables);
      }
    }
    const head = tableHead(mm, false);
    if (head !== 0) {
      hiwater = pool.key(head);
      tableList = tableRuns(pool, head);
      for (let r = pool.i32[runsWord(pool, head)]; r !== 0; r = pool.next(r)) {
        const o = pool.obj(r);
        const vp = pool.key(r);
        first.push(vp);
        opage.push(pool.opage(r));
        pages.push(pool.count(r));
        bits.push(pool.bits(r));
        obj.push(
          o === 0 ? 0 : objects.objRef(pool, o, mm.vmas.file(mm.vmaLookup(vp * 4096)), tables),
        );
      }
    }
  } finally {
    pool.unlock();
  }
  return {
    hiwater,
    first: Float64Array.from(first),
    opage: Float64Array.from(opage),
    pages: Uint32Array.from(pages),
    bits: Uint32Array.from(bits),
    obj: Uint32Array.from(obj),
    tables: tableList,
  };
}

export function writeObjects(w: ByteWriter, objects: readonly ObjectImage[]): void {
  w.u32(objects.length);
  for (const o of objects) {
    w.u8(o.kind);
    w.f64(o.size);
    w.u32(o.fileRef);
    w.u32(o.first.length);
    w.f64s(Float64Array.from(o.first), o.first.length);
    w.u32s(Uint32Array.from(o.pages), o.pages.length);
    w.u32s(Uint32Array.from(o.flags), o.flags.length);
  }
}

export function readObjects(r: ByteReader, nFiles: number): ObjectImage[] {
  const n = r.u32('page object count');
  if (n > r.remaining) throw new ImageFormatError(`page object count ${n} exceeds the payload`);
  const out: ObjectImage[] = [];
  for (let i = 0; i < n; i++) {
    const kind = r.u8('page object kind');
    const size = r.f64('page object size');
    const fileRef = r.u32('page object file');
    const m = r.u32('page object runs');
    if (m > r.remaining) throw new ImageFormatError(`page object ${i + 1}: ${m} runs`);
    const first = Array.from(r.f64s(m, 'page object first'));
    const pages = Array.from(r.u32s(m, 'page object pages'));
    const flags = Array.from(r.u32s(m, 'page object flags'));
    const badFile = kind === OBJ_ANON ? fileRef !== 0 : fileRef === 0 || fileRef > nFiles;
    const badSize = !(size === -1 || (Number.isSafeInteger(size) && size >= 0));
    const badRun = first.some((f, j) => !Number.isSafeInteger(f) || f < 0 || pages[j] === 0);
    if (kind < OBJ_ANON || kind > OBJ_SHMEM || badFile || badSize || badRun) {
      throw new ImageFormatError(`page object ${i + 1} is invalid`);
    }
    out.push({ kind, size, fileRef, first, pages, flags });
  }
  return out;
}

export function writeMmPages(w: ByteWriter, p: MmPagesImage): void {
  const n = p.first.length;
  w.f64(p.hiwater);
  w.u32(n);
  w.f64s(p.first, n);
  w.f64s(p.opage, n);
  w.u32s(p.pages, n);
  w.u32s(p.bits, n);
  w.u32s(p.obj, n);
  const tables = p.tables ?? [];
  const t = tables.length / 2;
  w.u32(t);
  w.f64s(
    Float64Array.from({ length: t }, (_, i) => tables[2 * i]),
    t,
  );
  w.u32s(
    Uint32Array.from({ length: t }, (_, i) => tables[2 * i + 1]),
    t,
  );
}

/** Reads one process's runs (and v5 tables): sorted, non-overlapping, in range. */
export function readMmPages(r: ByteReader, nObjects: number, version: number): MmPagesImage {
  const hiwater = r.f64('hiwater rss');
  const n = r.u32('page run count');
  if (n > r.remaining) throw new ImageFormatError(`page run count ${n} exceeds the payload`);
  const p: MmPagesImage = {
    hiwater,
    first: r.f64s(n, 'run first page'),
    opage: r.f64s(n, 'run object page'),
    pages: r.u32s(n, 'run pages'),
    bits: r.u32s(n, 'run bits'),
    obj: r.u32s(n, 'run object'),
    tables: null,
  };
  if (!Number.isSafeInteger(hiwater) || hiwater < 0) throw new ImageFormatError('bad hiwater rss');
  let prevEnd = 0;
  for (let i = 0; i < n; i++) {
    const f = p.first[i];
    const end = f + p.pages[i];
    const ok =
      Number.isSafeInteger(f) &&
      f >= prevEnd &&
      p.pages[i] > 0 &&
      end <= MAX_PAGE &&
      (p.bits[i] & ~PTE_BITS_MASK) === 0 &&
      p.obj[i] <= nObjects &&
      Number.isSafeInteger(p.opage[i]) &&
      p.opage[i] >= 0;
    if (!ok) throw new ImageFormatError(`page run ${i} is invalid`);
    prevEnd = end;
  }
  if (version >= TABLES_VERSION) p.tables = readTableRuns(r);
  return p;
}

/** The first format that stores each process's page tables. */
const TABLES_VERSION = 5;

function readTableRuns(r: ByteReader): number[] {
  const t = r.u32('page table run count');
  if (t > r.remaining) throw new ImageFormatError(`page table run count ${t} exceeds the payload`);
  const keys = r.f64s(t, 'page table key');
  const counts = r.u32s(t, 'page tables');
  const out: number[] = [];
  let prevEnd = 0;
  for (let i = 0; i < t; i++) {
    if (!validTableRun(keys[i], counts[i]) || keys[i] < prevEnd) {
      throw new ImageFormatError(`page table run ${i} is invalid`);
    }
    prevEnd = keys[i] + counts[i];
    out.push(keys[i], counts[i]);
  }
  return out;
}

/** Rebuilds the objects on first use and the processes' runs; `finish()` once all are mapped. */
export class PageRestore {
  private readonly ids: number[];

  constructor(
    private readonly objects: readonly ObjectImage[],
    private readonly tables: TableRestore,
    private readonly pool: PagePool,
  ) {
    this.ids = new Array(objects.length + 1).fill(0);
  }

  private object(ref: number): number {
    if (this.ids[ref] !== 0) return this.ids[ref];
    const o = this.objects[ref - 1];
    let id: number;
    if (o.kind === OBJ_ANON) id = createObject(this.pool, OBJ_ANON, o.size);
    else {
      id = fileObject(this.pool, this.tables.fileId(o.fileRef), o.kind === OBJ_SHMEM);
      this.pool.setKey(id, o.size);
    }
    this.ids[ref] = id;
    return id;
  }

  /** Maps `img`'s runs into `mm` (a new address space that has its VMAs). */
  restoreMm(mm: MmStruct, img: MmPagesImage): void {
    const pool = this.pool;
    const n = img.first.length;
    pool.lock();
    try {
      const t = img.tables === null ? 0 : img.tables.length / 2;
      if (n === 0 && t === 0) return;
      if (!pool.canFault(3 * n + 2 * t + 4)) throw new ImageRestoreError('page-state pool full');
      const head = tableHead(mm, true);
      for (let i = 0; i < n; i++) {
        const obj = img.obj[i] === 0 ? 0 : this.object(img.obj[i]);
        if (obj !== 0) adjustObject(pool, obj, img.opage[i], img.pages[i], 1, 0);
        mapRun(mm, head, img.first[i], img.pages[i], img.bits[i], obj, img.opage[i]);
      }
      if (img.tables !== null) addTableRuns(pool, head, img.tables);
      if (img.hiwater > pool.key(head)) pool.setKey(head, img.hiwater);
    } finally {
      pool.unlock();
    }
  }

  /** The objects' flags (dirty folios, resident shmem pages), once every mapping is back. */
  finish(): void {
    const pool = this.pool;
    pool.lock();
    try {
      this.objects.forEach((o, i) => {
        // A shmem object no restored run maps still holds its resident pages.
        const id = this.object(i + 1);
        for (let j = 0; j < o.first.length; j++) {
          adjustObject(pool, id, o.first[j], o.pages[j], 0, o.flags[j]);
        }
      });
    } finally {
      pool.unlock();
    }
  }
}

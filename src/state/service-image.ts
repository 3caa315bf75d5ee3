/**
 * A whole service as a snapshot holds it (payload formats v1, v2, v3): the pid range and counter,
 * the referenced global-table entries, then every process in list order with its comm, its
 * activity definition (JSON, as the API takes it) and its address-space image.
 *
 *   u32 pidBase, u32 nextPid, tables (table-image.ts), v3: page objects (page-image.ts),
 *   u32 process count, per process: u32 pid, string comm, string activity JSON ("" = idle),
 *   mm image (mm-image.ts; v2 added the machine caps to it), v3: its page runs (page-image.ts)
 *
 * `captureService` reads each address space under its mmap read lock (taken without blocking
 * the event loop), so each process is a consistent image even while CPUs and activities keep
 * mutating; processes are captured one after the other. `restoreService` validates the whole
 * payload before it builds anything, and builds every address space before the sim adopts any,
 * so a bad snapshot never leaves a half-restored service.
 */
import { PID_RANGE } from '../cpus/process-table.js';
import type { ActivitySpec, DurableProcesses, SimApi } from '../cpus/sim-api.js';
import { ByteReader, ByteWriter, ImageFormatError } from '../mm/image/byte-buffer.js';
import {
  buildMm,
  captureMm,
  imageThpMode,
  type MmImage,
  readMmImage,
  writeMmImage,
} from '../mm/image/mm-image.js';
import {
  captureMmPages,
  type MmPagesImage,
  type ObjectImage,
  PageCapture,
  PageRestore,
  readMmPages,
  readObjects,
  writeMmPages,
  writeObjects,
} from '../mm/image/page-image.js';
import {
  readTables,
  TableCapture,
  TableRestore,
  type TablesImage,
  writeTables,
} from '../mm/image/table-image.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { SYNC_WORDS_BASE } from '../mm/mm-struct.js';
import { exitMm } from '../mm/syscalls/exit.js';
import { mmapReadLockAsync, mmapReadUnlock } from '../sync/mmap-lock.js';

export interface ProcessImage {
  pid: number;
  comm: string;
  activity: ActivitySpec | null;
  mm: MmImage;
  /** Its page state (null from a v1/v2 snapshot: no pages). */
  pages: MmPagesImage | null;
}

export interface ServiceImage {
  pidBase: number;
  nextPid: number;
  tables: TablesImage;
  /** The page objects the processes' runs refer to (v3). */
  objects: ObjectImage[];
  processes: ProcessImage[];
}

export interface CaptureTotals {
  processes: number;
  vmas: number;
}

/**
 * What a restore did: the totals, and how many processes keep a THP mode other than the
 * service's `--thp` (a v4 snapshot taken under another mode: each process restores with the
 * mode it was captured under, so its smaps does not change across the restart; new processes
 * take `--thp`).
 */
export interface RestoreTotals extends CaptureTotals {
  otherThp: number;
  /** The recorded modes of those processes, by mode (empty when otherThp is 0). */
  otherThpModes: Record<string, number>;
}

/** The image of every live process of `sim`. */
export async function captureService(
  sim: SimApi,
  durable: DurableProcesses,
): Promise<ServiceImage> {
  const globals = durable.mmOptions().globals;
  if (globals === undefined) throw new Error('captureService: the sim gave no global tables');
  const tables = new TableCapture(globals.files, globals.anonNames);
  const objects = new PageCapture();
  const processes: ProcessImage[] = [];
  for (const p of durable.processes()) {
    let activity: ActivitySpec | null;
    try {
      activity = (await sim.getActivity(p.pid))?.spec ?? null;
    } catch {
      continue; // exited meanwhile
    }
    await mmapReadLockAsync(p.mm.i32, SYNC_WORDS_BASE);
    try {
      // Exited while we waited for the lock: its address space is gone, and so is the process.
      if (!durable.processes().some((q) => q.pid === p.pid)) continue;
      const mm = captureMm(p.mm, tables);
      const pages = captureMmPages(p.mm, tables, objects);
      processes.push({ pid: p.pid, comm: p.comm, activity, mm, pages });
    } finally {
      mmapReadUnlock(p.mm.i32, SYNC_WORDS_BASE);
    }
  }
  return {
    pidBase: durable.pidBase,
    nextPid: durable.nextPid(),
    tables: tables.image,
    objects: objects.objects,
    processes,
  };
}

export function encodeService(img: ServiceImage): Uint8Array {
  let vmas = 0;
  for (const p of img.processes) vmas += p.mm.count;
  const w = new ByteWriter(4096 + vmas * 48);
  w.u32(img.pidBase);
  w.u32(img.nextPid);
  writeTables(w, img.tables);
  writeObjects(w, img.objects);
  w.u32(img.processes.length);
  for (const p of img.processes) {
    w.u32(p.pid);
    w.string(p.comm);
    w.string(p.activity === null ? '' : JSON.stringify(p.activity));
    writeMmImage(w, p.mm);
    writeMmPages(w, p.pages ?? EMPTY_PAGES);
  }
  return w.result();
}

const EMPTY_PAGES: MmPagesImage = {
  hiwater: 0,
  first: new Float64Array(0),
  opage: new Float64Array(0),
  pages: new Uint32Array(0),
  bits: new Uint32Array(0),
  obj: new Uint32Array(0),
  tables: null,
};

const MAX_COMM_BYTES = 64;
const MAX_ACTIVITY_BYTES = 64 << 20;

/** Parses and checks a payload of `version` (ImageFormatError on anything malformed). */
export function decodeService(payload: Uint8Array, version: number): ServiceImage {
  const r = new ByteReader(payload);
  const pidBase = r.u32('pid base');
  const nextPid = r.u32('next pid');
  const owns = (pid: number) => pid > pidBase && pid < pidBase + PID_RANGE;
  if (!owns(nextPid)) throw new ImageFormatError(`next pid ${nextPid} outside the pid range`);
  const tables = readTables(r);
  const objects = version >= 3 ? readObjects(r, tables.files.length) : [];
  const n = r.u32('process count');
  if (n > r.remaining) throw new ImageFormatError(`process count ${n} exceeds the payload`);
  const processes: ProcessImage[] = [];
  const pids = new Set<number>();
  for (let i = 0; i < n; i++) {
    const pid = r.u32('pid');
    if (!owns(pid)) throw new ImageFormatError(`pid ${pid} outside the pid range of ${pidBase}`);
    if (pids.has(pid)) throw new ImageFormatError(`pid ${pid} appears twice`);
    pids.add(pid);
    const comm = r.string('comm', MAX_COMM_BYTES);
    const activityJson = r.string('activity', MAX_ACTIVITY_BYTES);
    let activity: ActivitySpec | null = null;
    if (activityJson !== '') {
      try {
        activity = JSON.parse(activityJson) as ActivitySpec;
      } catch {
        throw new ImageFormatError(`pid ${pid}: activity is not JSON`);
      }
      if (activity?.kind !== 'loop' && activity?.kind !== 'profile') {
        throw new ImageFormatError(`pid ${pid}: unknown activity kind`);
      }
    }
    const mm = readMmImage(r, version, tables.files.length, tables.names.length);
    const pages = version >= 3 ? readMmPages(r, objects.length, version) : null;
    processes.push({ pid, comm, activity, mm, pages });
  }
  if (r.remaining !== 0) throw new ImageFormatError(`${r.remaining} bytes after the last process`);
  return { pidBase, nextPid, tables, objects, processes };
}

export class RestoreRefusedError extends Error {
  override name = 'RestoreRefusedError';
}

/**
 * Re-creates every process of `img` in `durable` (a sim started without a population).
 * Throws RestoreRefusedError, before any process is added, when the image does not fit this sim.
 */
export async function restoreService(
  img: ServiceImage,
  durable: DurableProcesses,
): Promise<RestoreTotals> {
  if (img.pidBase !== durable.pidBase) {
    throw new RestoreRefusedError(
      `the snapshot was taken with --pid-base ${img.pidBase}, this service runs with --pid-base ${durable.pidBase}`,
    );
  }
  const opts = durable.mmOptions();
  const globals = opts.globals;
  if (globals === undefined) throw new Error('restoreService: the sim gave no global tables');
  const tables = new TableRestore(img.tables, globals.files, globals.anonNames, opts.grace);
  const built: { pid: number; comm: string; activity: ActivitySpec | null; mm: MmStruct }[] = [];
  const pages = new PageRestore(img.objects, tables, globals.pages);
  try {
    for (const p of img.processes) {
      const mm = buildMm(p.mm, tables, opts);
      built.push({ pid: p.pid, comm: p.comm, activity: p.activity, mm });
      if (p.pages !== null) pages.restoreMm(mm, p.pages);
    }
    pages.finish();
  } catch (err) {
    for (const b of built) exitMm(b.mm); // a failed restore keeps no file reference
    throw err;
  } finally {
    tables.release();
  }
  await durable.adopt(built, img.nextPid);
  let vmas = 0;
  let otherThp = 0;
  const otherThpModes: Record<string, number> = {};
  const serviceThp = opts.thp ?? 'madvise';
  for (const p of img.processes) {
    vmas += p.mm.count;
    const mode = imageThpMode(p.mm);
    if (mode !== null && mode !== serviceThp) {
      otherThp++;
      otherThpModes[mode] = (otherThpModes[mode] ?? 0) + 1;
    }
  }
  return { processes: built.length, vmas, otherThp, otherThpModes };
}

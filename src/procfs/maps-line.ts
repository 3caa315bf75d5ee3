/**
 * One /proc/PID/maps line, byte-identical to Linux's `show_map_vma()`:
 *
 *   hex(start,8) '-' hex(end,8) ' ' r|- w|- x|- s|p ' ' hex(pgoff<<12,8) ' ' hex(major,2) ':'
 *   hex(minor,2) ' ' dec(inode) ' '   [pad with ' ' to column 72, ' ', name]   '\n'
 *
 * (`seq_setwidth(m, 25 + 6 * sizeof(void *) - 1)` = 72 on 64-bit; `seq_pad()` then one space, so
 * a name starts at column 73, or after one space when the prefix is already ≥ 72 columns.)
 * `s` comes from VM_MAYSHARE (not VM_SHARED): a read-only MAP_SHARED file mapping still shows `s`.
 * Formatting reads only the `VmaView`, so it is the same for a live record read under a lock and
 * for a stable copy taken by a speculative reader.
 */
import { ByteSink } from './byte-sink.js';
import { asciiBytes, writeAddress, writeDecimal, writeHex } from './hex.js';
import { NAME_NONE, NAME_PATH, NAME_SPECIAL, nameUpperBound, writeName } from './vma-name.js';
import { VmaView } from './vma-view.js';

// Kernel VM_* bits used by the permission column (include/linux/mm.h).
const VM_READ = 0x1;
const VM_WRITE = 0x2;
const VM_EXEC = 0x4;
const VM_MAYSHARE = 0x80;

/** Column where `seq_pad` stops padding (then one more space, then the name). */
export const MAPS_NAME_PAD = 72;
/** Longest possible prefix: 16+1+16+1+4+1+16(offset)+1+3+1+5(dev)+1+16(inode)+1, rounded up. */
const PREFIX_MAX = 96;

/** Appends the maps line of `v` to `sink`. Returns the line length in bytes. */
export function writeMapsLine(sink: ByteSink, v: VmaView): number {
  const hasName = v.nameKind !== NAME_NONE;
  sink.reserve(
    PREFIX_MAX + 2 + (hasName ? MAPS_NAME_PAD + nameUpperBound(v.nameTo - v.nameFrom) : 0),
  );
  const b = sink.bytes;
  const lineStart = sink.length;
  let p = writeAddress(b, lineStart, v.start);
  b[p++] = 0x2d; // '-'
  p = writeAddress(b, p, v.end);
  b[p++] = 0x20;
  const f = v.flags;
  b[p++] = f & VM_READ ? 0x72 : 0x2d;
  b[p++] = f & VM_WRITE ? 0x77 : 0x2d;
  b[p++] = f & VM_EXEC ? 0x78 : 0x2d;
  b[p++] = f & VM_MAYSHARE ? 0x73 : 0x70;
  b[p++] = 0x20;
  if (v.hasFile) {
    // pgoff << 12 in hex is hex(pgoff) followed by "000": exact for any pgoff, no 2^53 limit.
    p = writeHex(b, p, v.pgoff, 5);
    b[p++] = 0x30;
    b[p++] = 0x30;
    b[p++] = 0x30;
    b[p++] = 0x20;
    const tail = v.nameKind === NAME_PATH ? fileTails.get(v, p - lineStart) : null;
    if (tail !== null) {
      b.set(tail, p);
      p += tail.length;
    } else {
      p = writeFileTail(b, p, lineStart, v);
    }
  } else {
    // "00000000 00:00 0"
    for (let i = 0; i < 8; i++) b[p++] = 0x30;
    b[p++] = 0x20;
    b[p++] = 0x30;
    b[p++] = 0x30;
    b[p++] = 0x3a;
    b[p++] = 0x30;
    b[p++] = 0x30;
    b[p++] = 0x20;
    b[p++] = 0x30;
    b[p++] = 0x20;
    if (hasName) p = writeNameColumn(b, p, lineStart, v);
  }
  b[p++] = 0x0a;
  sink.length = p;
  return p - lineStart;
}

/** `dev inode ` then the name column of a file VMA's line, from the device column on. */
function writeFileTail(b: Uint8Array, pos: number, lineStart: number, v: VmaView): number {
  let p = writeHex(b, pos, v.devMajor, 2);
  b[p++] = 0x3a; // ':'
  p = writeHex(b, p, v.devMinor, 2);
  b[p++] = 0x20;
  p = writeDecimal(b, p, v.inode);
  b[p++] = 0x20;
  return v.nameKind === NAME_NONE ? p : writeNameColumn(b, p, lineStart, v);
}

/** `seq_pad()` to column 72, one space, then the name. */
function writeNameColumn(b: Uint8Array, pos: number, lineStart: number, v: VmaView): number {
  let p = pos;
  const padEnd = lineStart + MAPS_NAME_PAD;
  while (p < padEnd) b[p++] = 0x20;
  b[p++] = 0x20;
  return writeName(b, p, v.nameKind, v.nameSrc, v.nameFrom, v.nameTo, v.deleted, true);
}

/** Paths of at most this many bytes have their line tails cached. */
const TAIL_CACHE_MAX_PATH = 256;
const TAIL_CACHE_SLOTS = 1024;

/**
 * The tail of a file VMA's line — `dev inode`, the padding, the escaped path, ` (deleted)` — is
 * the same on every line that maps the same file at the same column, so each thread caches it
 * and a line copies it with one `set` (a memcpy) instead of ~50 single-byte stores.
 *
 * Key: (path source array, the file's serial, path offsets, device, inode, deleted, column).
 * FileTable entries and their heap bytes are reused after a grace period once unreferenced, but
 * a serial is never reused (file-table.ts), so the bytes behind a key never change. A body with
 * a NUL byte is never cached: no published path has one, so it is heap seen through a
 * speculative reader's torn offsets, which that reader discards after validation. Anon names (copied into a view's own,
 * reused buffer) never come here. One source at a time: a new source (another FileTable, a
 * test's buffer) empties the cache, so it never keeps an old table alive.
 */
class FileTailCache {
  private src: Uint8Array | null = null;
  private readonly from = new Int32Array(TAIL_CACHE_SLOTS).fill(-1);
  private readonly to = new Int32Array(TAIL_CACHE_SLOTS);
  /** (column << 1) | deleted. */
  private readonly columnDeleted = new Int32Array(TAIL_CACHE_SLOTS);
  private readonly major = new Int32Array(TAIL_CACHE_SLOTS);
  private readonly minor = new Int32Array(TAIL_CACHE_SLOTS);
  private readonly inode = new Float64Array(TAIL_CACHE_SLOTS);
  private readonly serial = new Int32Array(TAIL_CACHE_SLOTS);
  private readonly tails: (Uint8Array | null)[] = new Array(TAIL_CACHE_SLOTS).fill(null);
  private readonly scratch = new Uint8Array(
    PREFIX_MAX + MAPS_NAME_PAD + nameUpperBound(TAIL_CACHE_MAX_PATH),
  );

  /** The tail of `v`'s line when its device column is `column`, or null if not cacheable. */
  get(v: VmaView, column: number): Uint8Array | null {
    const src = v.nameSrc;
    const from = v.nameFrom;
    const to = v.nameTo;
    if (src !== this.src) {
      this.src = src;
      this.from.fill(-1);
      this.tails.fill(null);
    }
    const key = (column << 1) | (v.deleted ? 1 : 0);
    const slot = (from ^ (from >>> 10) ^ column) & (TAIL_CACHE_SLOTS - 1);
    if (
      this.from[slot] === from &&
      this.to[slot] === to &&
      this.columnDeleted[slot] === key &&
      this.inode[slot] === v.inode &&
      this.serial[slot] === v.fileSerial &&
      this.major[slot] === v.devMajor &&
      this.minor[slot] === v.devMinor
    ) {
      return this.tails[slot];
    }
    if (to - from > TAIL_CACHE_MAX_PATH) return null;
    for (let i = from; i < to; i++) if (src[i] === 0) return null;
    const tail = this.scratch.slice(0, writeFileTail(this.scratch, 0, -column, v));
    this.from[slot] = from;
    this.to[slot] = to;
    this.columnDeleted[slot] = key;
    this.inode[slot] = v.inode;
    this.serial[slot] = v.fileSerial;
    this.major[slot] = v.devMajor;
    this.minor[slot] = v.devMinor;
    this.tails[slot] = tail;
    return tail;
  }
}

const fileTails = new FileTailCache();

/**
 * The x86-64 gate VMA (`get_gate_vma()`): not in the VMA tree, printed after the last VMA.
 * Built once with the same formatter (its addresses are multiples of 4096, so exact as doubles).
 */
function buildGateLine(): Uint8Array {
  const sink = new ByteSink(256);
  writeMapsLine(sink, gateVmaView());
  return sink.view().slice();
}

/** A view of the gate VMA (`[vsyscall]`, `--xp`): what smaps shows for it too. */
export function gateVmaView(): VmaView {
  const v = new VmaView();
  v.start = 0xffffffffff600000;
  v.end = 0xffffffffff601000;
  v.flags = VM_EXEC; // vsyscall=xonly (the default): "--xp"
  v.nameKind = NAME_SPECIAL;
  v.nameSrc = asciiBytes('[vsyscall]');
  v.nameFrom = 0;
  v.nameTo = v.nameSrc.length;
  return v;
}

export const GATE_LINE: Uint8Array = buildGateLine();

/** Appends the `[vsyscall]` gate line. Returns its length. */
export function writeGateLine(sink: ByteSink): number {
  sink.reserve(GATE_LINE.length);
  sink.bytes.set(GATE_LINE, sink.length);
  sink.length += GATE_LINE.length;
  return GATE_LINE.length;
}

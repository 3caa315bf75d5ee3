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
import { asciiBytes, writeDecimal, writeHex } from './hex.js';
import { NAME_NONE, NAME_SPECIAL, nameUpperBound, writeName } from './vma-name.js';
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
  let p = writeHex(b, lineStart, v.start, 8);
  b[p++] = 0x2d; // '-'
  p = writeHex(b, p, v.end, 8);
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
    p = writeHex(b, p, v.devMajor, 2);
    b[p++] = 0x3a; // ':'
    p = writeHex(b, p, v.devMinor, 2);
    b[p++] = 0x20;
    p = writeDecimal(b, p, v.inode);
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
  }
  b[p++] = 0x20;
  if (hasName) {
    const padEnd = lineStart + MAPS_NAME_PAD;
    while (p < padEnd) b[p++] = 0x20;
    b[p++] = 0x20;
    p = writeName(b, p, v.nameKind, v.nameSrc, v.nameFrom, v.nameTo, v.deleted, true);
  }
  b[p++] = 0x0a;
  sink.length = p;
  return p - lineStart;
}

/**
 * The x86-64 gate VMA (`get_gate_vma()`): not in the VMA tree, printed after the last VMA.
 * Built once with the same formatter (its addresses are multiples of 4096, so exact as doubles).
 */
function buildGateLine(): Uint8Array {
  const v = new VmaView();
  v.start = 0xffffffffff600000;
  v.end = 0xffffffffff601000;
  v.flags = VM_EXEC; // vsyscall=xonly (the default): "--xp"
  v.nameKind = NAME_SPECIAL;
  v.nameSrc = asciiBytes('[vsyscall]');
  v.nameFrom = 0;
  v.nameTo = v.nameSrc.length;
  const sink = new ByteSink(256);
  writeMapsLine(sink, v);
  return sink.view().slice();
}

export const GATE_LINE: Uint8Array = buildGateLine();

/** Appends the `[vsyscall]` gate line. Returns its length. */
export function writeGateLine(sink: ByteSink): number {
  sink.reserve(GATE_LINE.length);
  sink.bytes.set(GATE_LINE, sink.length);
  sink.length += GATE_LINE.length;
  return GATE_LINE.length;
}

/**
 * The storage of a maps line memo (maps-line-memo.ts): its entries as columns, one typed array per
 * key field (the `misc` word packs the small ones), the text of their lines, when it was read,
 * and the bytes it holds against the thread's budget (maps-memo-budget.ts). How lines are
 * matched, copied and rewritten is the memo's; this class keeps, grows and empties the columns.
 *
 * The memo extends it rather than holding it, so that its per-line path reads the columns as
 * fields of one object (no extra load per access, and nothing more for V8 to inline).
 */
import type { MmStruct } from '../mm/mm-struct.js';
import {
  type BudgetedMemo,
  charge,
  discharge,
  MEMO_BUDGET_BYTES,
  makeRoom,
} from './maps-memo-budget.js';
import { NAME_ANON, NAME_ANON_SHMEM, NAME_NONE } from './vma-name.js';
import type { VmaView } from './vma-view.js';

/** The flag bits a maps line prints: VM_READ, VM_WRITE, VM_EXEC, VM_MAYSHARE. */
export const PRINTED_FLAGS = 0x87;
export const MISC_DELETED = 1 << 12;
export const MISC_FILE = 1 << 13;
/** Bytes after an anon name's body at the end of its line: `]` and the newline. */
const ANON_NAME_TAIL = 2;

/**
 * The `misc` column's word for a line formatted from `v`: its printed flag bits, its name kind
 * (bits 8-11), whether it has a file and whether that is ` (deleted)`.
 */
export function misc(v: VmaView): number {
  return (
    (v.flags & PRINTED_FLAGS) |
    (v.nameKind << 8) |
    (v.deleted ? MISC_DELETED : 0) |
    (v.hasFile ? MISC_FILE : 0)
  );
}

/** Whether a name kind is an anon name's (`[anon:…]`, `[anon_shmem:…]`). */
export function isAnonName(kind: number): boolean {
  return kind === NAME_ANON || kind === NAME_ANON_SHMEM;
}

/** Key bytes per entry: 4 Float64 + 8 Int32 + one reference. */
const ENTRY_BYTES = 4 * 8 + 8 * 4 + 8;
/**
 * An entry's `seen` when no reader has stamped it: 0, never a `vm_lock_seq` (that is -1 for a
 * record never write-locked, else the odd mm_lock_seq of the write section that last did).
 */
export const SEEN_NONE = 0;

export abstract class MemoColumns implements BudgetedMemo {
  // Entries [0, n) of `cap`: entry i's line is text[off[i], off[i + 1]).
  protected n = 0;
  private cap = 0;
  protected start = new Float64Array(0);
  protected end = new Float64Array(0);
  protected pgoff = new Float64Array(0);
  protected inode = new Float64Array(0);
  /** The printed flag bits, name kind, file and `deleted` bits (`misc`). */
  protected misc = new Int32Array(0);
  protected major = new Int32Array(0);
  protected minor = new Int32Array(0);
  protected serial = new Int32Array(0);
  protected nameFrom = new Int32Array(0);
  protected nameTo = new Int32Array(0);
  // The record's vm_lock_seq when a reader holding its lock (or validated afterwards) last found
  // the entry's key equal to the record's (SEEN_NONE: not yet). Every change of a record's
  // printed fields is made with the record write-locked (vma_start_write), which sets vm_lock_seq
  // to that write section's sequence: while it still reads the same, the record prints the same
  // line, whatever else the mm's writers did meanwhile. The line's other inputs: a file's
  // `deleted` (compared at each hit), and the mm's brk for [heap], which changes no label
  // without write-locking the VMA it is on: VMAs are page-aligned, so a brk that stays in its
  // page flips no `vm_start < brk`, and one that crosses a page grows or shrinks the heap VMA.
  protected seen = new Int32Array(0);
  protected off = new Int32Array(1);
  protected names: (Uint8Array | null)[] = [];
  protected text = new Uint8Array(0);
  /**
   * Readers keeping a view of `text` (a lent chunk, `ByteSink.lend`, kept as a reply's body until
   * it is written): while any does, `text` is never written in place (`writableText` copies it
   * first). A text replaced meanwhile is the readers' alone; their unpin then changes nothing.
   */
  private pins = 0;
  /**
   * Where the text holds the gate line after the last entry's (`off[n]`), or -1: any change to
   * the entries or their text voids it (maps-line-memo.ts `gate` writes it again).
   */
  protected gateAt = -1;
  private bytes = 0;
  /** When it was last read (a per-thread clock, maps-memo-budget.ts `nextReadTick`). */
  protected lastUse = 0;
  /** When it was read before that (0: the read in progress is its first). */
  protected prevUse = 0;

  /**
   * Whether entry `e` is an anon-named line whose name is `src[from, from + len)`: its name's
   * length is `len` and its line ends with those bytes, then `]` and the newline.
   */
  protected endsWithName(e: number, src: Uint8Array, from: number, len: number): boolean {
    if (this.nameTo[e] !== len) return false;
    const text = this.text;
    const at = this.off[e + 1] - ANON_NAME_TAIL - len;
    for (let i = 0; i < len; i++) if (text[at + i] !== src[from + i]) return false;
    return true;
  }

  pin(text: Uint8Array): void {
    if (text === this.text) this.pins++;
  }

  unpin(text: Uint8Array): void {
    if (text === this.text && this.pins > 0) this.pins--;
  }

  /** `text`, to be written in place: a copy of it first while a reader keeps a view of it. */
  protected writableText(): Uint8Array {
    if (this.pins > 0) {
      this.text = this.text.slice();
      this.pins = 0;
    }
    return this.text;
  }

  /**
   * Entry `e` becomes the line `src[from, from + len)` formatted from `v`, unstamped: it replaces
   * entry `e` (`replace`) or goes in before it (the entries after it move up one, their text by
   * `len`). False, and nothing changed, past the thread's budget.
   */
  protected putEntry(
    e: number,
    v: VmaView,
    src: Uint8Array,
    from: number,
    len: number,
    replace: boolean,
  ): boolean {
    const n = this.n;
    const at = this.off[e];
    const oldLen = replace ? this.off[e + 1] - at : 0;
    const delta = len - oldLen;
    const textEnd = this.off[n];
    if (!this.reserve(replace ? n : n + 1, textEnd + delta)) return false;
    const off = this.off;
    const text = this.writableText();
    this.gateAt = -1;
    if (delta !== 0) text.copyWithin(at + len, at + oldLen, textEnd);
    if (replace) {
      for (let i = e + 1; i <= n; i++) off[i] += delta;
    } else {
      this.moveEntries(e + 1, e, n);
      for (let i = n; i > e; i--) off[i + 1] = off[i] + delta;
      this.n = n + 1;
    }
    this.start[e] = v.start;
    this.end[e] = v.end;
    this.misc[e] = misc(v);
    this.pgoff[e] = v.pgoff;
    this.inode[e] = v.inode;
    this.major[e] = v.devMajor;
    this.minor[e] = v.devMinor;
    this.serial[e] = v.fileSerial;
    if (isAnonName(v.nameKind)) {
      // Matched on its bytes (`endsWithName`): only the name's length is kept.
      this.names[e] = null;
      this.nameFrom[e] = 0;
      this.nameTo[e] = v.nameTo - v.nameFrom;
    } else {
      this.names[e] = v.nameSrc;
      this.nameFrom[e] = v.nameFrom;
      this.nameTo[e] = v.nameTo;
    }
    this.seen[e] = SEEN_NONE;
    if (len > 0) text.set(src.subarray(from, from + len), at);
    off[e + 1] = at + len;
    return true;
  }

  /** Whether entry `e`'s line ends with anon name `anon`'s bytes, read from the name table. */
  protected sameStoredName(e: number, mm: MmStruct, anon: number): boolean {
    const names = mm.anonNames;
    return this.endsWithName(e, names.bytes, names.nameOffset(anon), names.nameLength(anon));
  }

  /**
   * Whether entry `e`'s `deleted` is file `file`'s now (a file is unlinked outside any mmap
   * write section, so no stamp covers it); true for an entry without a file.
   */
  protected sameDeleted(mm: MmStruct, file: number, e: number): boolean {
    const m = this.misc[e];
    if ((m & MISC_FILE) === 0) return true;
    return (mm.files.deleted(file) ? MISC_DELETED : 0) === (m & MISC_DELETED);
  }

  /**
   * Whether entry `e` was formatted from the same printed fields as `v` (whose misc is `key`).
   * A line without a name compares no name fields (a view keeps those of its last named line).
   */
  protected matches(e: number, v: VmaView, key: number): boolean {
    if (this.misc[e] !== key || this.start[e] !== v.start || this.end[e] !== v.end) {
      return false;
    }
    if (
      v.hasFile &&
      (this.pgoff[e] !== v.pgoff ||
        this.inode[e] !== v.inode ||
        this.major[e] !== v.devMajor ||
        this.minor[e] !== v.devMinor ||
        this.serial[e] !== v.fileSerial)
    ) {
      return false;
    }
    const kind = v.nameKind;
    if (kind === NAME_NONE) return true;
    if (isAnonName(kind)) return this.endsWithName(e, v.nameSrc, v.nameFrom, v.nameTo - v.nameFrom);
    return (
      this.names[e] === v.nameSrc && this.nameFrom[e] === v.nameFrom && this.nameTo[e] === v.nameTo
    );
  }

  /** Entries [e, e + count) go; the entries after them move down, their text too. */
  protected dropEntries(e: number, count: number): void {
    const n = this.n;
    const off = this.off;
    const gone = off[e + count] - off[e];
    this.writableText().copyWithin(off[e], off[e + count], off[n]);
    this.gateAt = -1;
    this.moveEntries(e, e + count, n);
    for (let i = e + 1; i <= n - count; i++) off[i] = off[i + count] - gone;
    this.n = n - count;
  }

  /** Entries [from, end) of every key column to `to` (their offsets are the caller's). */
  private moveEntries(to: number, from: number, end: number): void {
    this.start.copyWithin(to, from, end);
    this.end.copyWithin(to, from, end);
    this.pgoff.copyWithin(to, from, end);
    this.inode.copyWithin(to, from, end);
    this.misc.copyWithin(to, from, end);
    this.major.copyWithin(to, from, end);
    this.minor.copyWithin(to, from, end);
    this.serial.copyWithin(to, from, end);
    this.nameFrom.copyWithin(to, from, end);
    this.nameTo.copyWithin(to, from, end);
    this.seen.copyWithin(to, from, end);
    // By hand: Array.prototype.copyWithin takes the generic path on a holey array.
    const names = this.names;
    const count = end - from;
    if (to < from) for (let i = 0; i < count; i++) names[to + i] = names[from + i];
    else for (let i = count - 1; i >= 0; i--) names[to + i] = names[from + i];
  }

  /** Room for `entries` entries and `textBytes` bytes of text; false past the thread's budget. */
  protected reserve(entries: number, textBytes: number): boolean {
    if (entries <= this.cap && textBytes <= this.text.length) return true;
    // Doubling what is short (only that); near the budget, just what is needed.
    let cap = entries > this.cap ? Math.max(entries, this.cap * 2, 64) : this.cap;
    let textCap =
      textBytes > this.text.length
        ? Math.max(textBytes, this.text.length * 2, 4096)
        : this.text.length;
    if (cap * ENTRY_BYTES + textCap > MEMO_BUDGET_BYTES) {
      cap = Math.max(entries, this.cap);
      textCap = Math.max(textBytes, this.text.length);
    }
    const bytes = cap * ENTRY_BYTES + textCap;
    if (bytes > MEMO_BUDGET_BYTES || !makeRoom(this, bytes - this.bytes)) return false;
    if (entries > this.cap) this.growEntries(cap);
    if (textBytes > this.text.length) {
      const text = new Uint8Array(textCap);
      text.set(this.text.subarray(0, this.off[this.n]));
      this.text = text;
      this.pins = 0;
      this.gateAt = -1;
    }
    charge(this, bytes - this.bytes);
    this.bytes = bytes;
    return true;
  }

  private growEntries(cap: number): void {
    const n = this.n;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a.subarray(0, n));
      return b;
    };
    const i32 = (a: Int32Array, extra = 0) => {
      const b = new Int32Array(cap + extra);
      b.set(a.subarray(0, n + extra));
      return b;
    };
    this.start = f64(this.start);
    this.end = f64(this.end);
    this.pgoff = f64(this.pgoff);
    this.inode = f64(this.inode);
    this.misc = i32(this.misc);
    this.major = i32(this.major);
    this.minor = i32(this.minor);
    this.serial = i32(this.serial);
    this.nameFrom = i32(this.nameFrom);
    this.nameTo = i32(this.nameTo);
    this.seen = i32(this.seen);
    this.off = i32(this.off, 1);
    this.names.length = cap;
    this.cap = cap;
  }

  /** Empties the memo (its memory goes back to the thread's budget). */
  release(): void {
    discharge(this, this.bytes);
    this.bytes = 0;
    this.n = 0;
    this.cap = 0;
    this.start = this.end = this.pgoff = this.inode = new Float64Array(0);
    this.misc = this.major = this.minor = this.serial = new Int32Array(0);
    this.nameFrom = this.nameTo = this.seen = new Int32Array(0);
    this.off = new Int32Array(1);
    this.names = [];
    this.text = new Uint8Array(0);
    this.pins = 0;
    this.gateAt = -1;
  }

  /** Lines memoised (tests). */
  get entries(): number {
    return this.n;
  }

  /** Entries a reader stamped with their record's vm_lock_seq (tests). */
  get stamped(): number {
    let k = 0;
    for (let e = 0; e < this.n; e++) if (this.seen[e] !== SEEN_NONE) k++;
    return k;
  }

  /** Bytes this memo holds (text and keys). */
  get heldBytes(): number {
    return this.bytes;
  }

  /** When it was last read (a per-thread clock). */
  get lastRead(): number {
    return this.lastUse;
  }

  /** When it was read before its last read (0: never). */
  get previousRead(): number {
    return this.prevUse;
  }
}

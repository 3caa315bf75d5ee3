/**
 * Whether a VMA record still prints as a maps line memo's entry (maps-line-memo.ts): compared
 * field by field (`recordMatch`), or for a run of them on each entry's stamp, field by field
 * where the stamp does not stand (`stampedRun`). Predicates, but for the stamp a run's field
 * match leaves: what the memo copies and advances on a match is the memo's.
 */
import {
  VMA_F64_ANON_NAME,
  VMA_F64_END,
  VMA_F64_PGOFF,
  VMA_F64_START,
  VMA_I32_FILE,
  VMA_I32_FLAGS,
  VMA_I32_LOCK_SEQ,
  VMA_I32_OPS,
} from '../mm/arena-layout.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { OPS_NONE, SPECIAL_MAPPINGS } from '../mm/special-mappings.js';
import { VMA_W32, VMA_W64 } from '../mm/vma-table.js';
import {
  isAnonName,
  MemoColumns,
  MISC_DELETED,
  MISC_FILE,
  PRINTED_FLAGS,
} from './maps-memo-columns.js';
import type { MapsPosition } from './maps-text.js';
import {
  anonVmaNameKind,
  NAME_ANON,
  NAME_ANON_SHMEM,
  NAME_NONE,
  NAME_PATH,
  NAME_SPECIAL,
} from './vma-name.js';

/** `copyRun`: the chunk is full (its other results are VMA ids, >= 0). */
export const RUN_FULL = -1;

/** What `copyRun` asks of a walker: the next VMA, found and protected (lock_next_vma's result). */
export interface RunFinder {
  next(from: number): number;
}

/** recordMatch: the record prints otherwise. */
export const MATCH_NONE = 0;
/**
 * recordMatch: it prints the same, with an anon name or a special mapping's name. Never stamped:
 * an unlocked reader meeting a stamp would skip the name, which lockless_nofallback must read
 * (and count what it finds freed) or fetch through the name op (and count a null op).
 */
export const MATCH_NAMED = 1;
/** recordMatch: it prints the same, compared field by field (the entry may be stamped). */
export const MATCH_FIELDS = 2;

export abstract class MemoMatch extends MemoColumns {
  /** What the last `stampedRun` stopped at: RUN_FULL or the VMA found last. */
  protected runStop = RUN_FULL;
  /** Lines a run matched field by field (its stamp did not stand), over the memo's life. */
  protected runFieldMatches = 0;

  /**
   * Record `id` of `mm` against entry `e`, same range: its printed flag bits, its file (the
   * file's serial, pgoff and `deleted`) or name kind, and an anon name's bytes or a special
   * mapping's name. A reader without the record's lock (`locked` false) never matches an anon
   * name (its storage is the record's only while the lock is held: that reader captures the
   * name and checks it) or a special mapping (it must make the name op's check and call).
   */
  protected recordMatch(mm: MmStruct, id: number, e: number, locked: boolean): number {
    const t = mm.vmas;
    const r64 = t.base64 + id * VMA_W64;
    const r32 = t.base32 + id * VMA_W32;
    const anon = t.f64[r64 + VMA_F64_ANON_NAME];
    if (anon !== 0 && !locked) return MATCH_NONE;
    const flags = t.u32[r32 + VMA_I32_FLAGS] & PRINTED_FLAGS;
    const file = t.i32[r32 + VMA_I32_FILE];
    let key: number;
    if (file !== 0) {
      const files = mm.files;
      if (this.serial[e] !== files.serial(file)) return MATCH_NONE;
      if (this.pgoff[e] !== t.f64[r64 + VMA_F64_PGOFF]) return MATCH_NONE;
      key =
        anon !== 0
          ? flags | (NAME_ANON_SHMEM << 8) | MISC_FILE
          : flags | (NAME_PATH << 8) | MISC_FILE | (files.deleted(file) ? MISC_DELETED : 0);
    } else {
      const ops = t.i32[r32 + VMA_I32_OPS];
      if (ops !== OPS_NONE) return locked ? this.specialMatch(e, ops, flags) : MATCH_NONE;
      // [heap] and [stack] come before the anon name.
      let kind = anonVmaNameKind(mm, this.start[e], this.end[e]);
      if (kind === NAME_NONE && anon !== 0) kind = NAME_ANON;
      key = flags | (kind << 8);
    }
    if (this.misc[e] !== key) return MATCH_NONE;
    if (anon === 0) return MATCH_FIELDS;
    if (isAnonName((key >> 8) & 0xf) && !this.sameStoredName(e, mm, anon)) return MATCH_NONE;
    return MATCH_NAMED;
  }

  /**
   * A special mapping's record (`[vdso]`, `[vvar]`, ...) against entry `e`: its name is its
   * ops' constant bytes, the same array the capture points at.
   */
  private specialMatch(e: number, ops: number, flags: number): number {
    const name = SPECIAL_MAPPINGS[ops]?.nameBytes ?? null;
    if (name === null || this.misc[e] !== (flags | (NAME_SPECIAL << 8))) return MATCH_NONE;
    if (this.names[e] !== name || this.nameFrom[e] !== 0 || this.nameTo[e] !== name.length) {
      return MATCH_NONE;
    }
    return MATCH_NAMED;
  }

  /**
   * A run's VMA `id` whose stamp does not stand on entry `e` (same range), matched field by field
   * as the line-by-line path matches it for a reader holding its lock (`compareRecord`), stamped
   * on a match of its fields; an anon-named or special mapping's line matches unstamped. Out of
   * line: a run meets it at the lines that are never stamped and after a change.
   */
  private lockedMatch(mm: MmStruct, id: number, e: number): boolean {
    const match = this.recordMatch(mm, id, e, true);
    if (match === MATCH_NONE) return false;
    if (match === MATCH_FIELDS) {
      const t = mm.vmas;
      this.seen[e] = t.i32[t.base32 + id * VMA_W32 + VMA_I32_LOCK_SEQ];
    }
    this.runFieldMatches++;
    return true;
  }

  /**
   * From entry `e` and position `pos` on: each next VMA `find` finds and protects, while it
   * prints as the next entry on its stamp (its range, its vm_lock_seq and `deleted`:
   * writeIfUnchanged's first test) or, failing that, field by field (`lockedMatch`: the finder
   * holds what protects the record) and that line fits in `room` bytes (strictly; the first
   * line always does with `firstFits`: a chunk's first line goes out however long), advances
   * `pos` as `fetchRecord` does. Returns the entry after the last line that fits; `runStop` says
   * why it stopped: RUN_FULL (`pos` is past the line that did not fit, as `fetchRecord` leaves
   * it on an overflow), or the VMA found last (0: none) that is not the next entry's.
   *
   * One loop with the columns in locals: the per-line path (`fetchRecord`, the walker's `next`,
   * `writeIfUnchanged`) reloads each of them on every line, since the walk's Atomics calls are
   * opaque to V8 and nothing is hoisted across them.
   */
  protected stampedRun(
    find: RunFinder,
    mm: MmStruct,
    pos: MapsPosition,
    e: number,
    room: number,
    firstFits: boolean,
  ): number {
    const { n, start, end, seen, off } = this;
    const t = mm.vmas;
    const { f64, i32 } = t;
    const start64 = t.base64 + VMA_F64_START;
    const end64 = t.base64 + VMA_F64_END;
    const seq32 = t.base32 + VMA_I32_LOCK_SEQ;
    const file32 = t.base32 + VMA_I32_FILE;
    // The strides in locals: an imported binding is loaded from its module cell at every use,
    // and nothing is hoisted across the walk's Atomics calls (per-vma.ts's module constants).
    const w64 = VMA_W64;
    const w32 = VMA_W32;
    let from = pos.index;
    let lastPos = pos.lastPos;
    let stop = RUN_FULL;
    for (;;) {
      const id = find.next(from);
      if (id === 0 || e >= n) {
        stop = id;
        break;
      }
      const vmEnd = f64[end64 + id * w64];
      const r32 = id * w32;
      if (start[e] !== f64[start64 + id * w64] || end[e] !== vmEnd) {
        stop = id;
        break;
      }
      if (
        (seen[e] !== i32[seq32 + r32] || !this.sameDeleted(mm, i32[file32 + r32], e)) &&
        !this.lockedMatch(mm, id, e)
      ) {
        stop = id;
        break;
      }
      lastPos = from;
      from = vmEnd;
      const len = off[e + 1] - off[e];
      if (len >= room && !firstFits) break;
      firstFits = false;
      room -= len;
      e++;
    }
    pos.index = from;
    pos.lastPos = lastPos;
    this.runStop = stop;
    return e;
  }
}

/**
 * `MapsLineMemo`: a reader's copy of the lines it printed in its last read of one address space,
 * each kept with the key it was formatted from, so that a line whose VMA shows the same fields
 * again is copied instead of formatted (issue 10: formatting was ~40% of a maps line's cost).
 *
 * What it does not change: the strategy still finds, locks (or validates) and copies every VMA
 * into the `VmaView` exactly as before; only the last step, view → bytes, becomes a compare and a
 * copy. The key is everything `writeMapsLine` prints (maps-line.ts), so the bytes of a hit are the
 * bytes formatting would give: start, end, the printed flag bits, whether there is a file and
 * then pgoff, device, inode and `deleted`, the name kind, and the name's identity — the array
 * its bytes come from plus their offsets, and for a path the file's serial (a FileTable entry's
 * bytes never change while its serial lives, and serials are never reused: file-table.ts). An
 * anon name's storage is freed and reused at once when its last reference drops, so neither its
 * array nor its offsets say which name it holds: an anon-named line is matched on its name's
 * bytes, compared with those in the memo's line (the name is the line's last field).
 *
 * Lines are matched in read order (entries are in address order, as lines are); consecutive
 * hits are copied as one run (one `set` per chunk when nothing changed). A line that differs
 * changes only its own entry: entries of VMAs gone before it are dropped, a changed line replaces
 * its entry, a new one goes in before the entry it precedes, and later lines match as before
 * (until session 15 the first difference ended matching: one VMA mapped near the start of the
 * file had every line after it formatted again). Past a budget of entry moves per read
 * (`SPLICE_MOVES_PER_LINE`) the memo is rewritten from there instead. It is changed only by
 * `keep`, once the line stands (a lockless reader's validation passed, no chunk overflow).
 * A walker whose VMAs are stable while found (per_vma's under each VMA's read lock, the
 * mmap_lock walker under the chunk's mmap read lock) shows the lines whose stamps stand through
 * `copyRun`, many per call: each VMA still found and locked as its `next` does it, the rest of the per-line path (record capture, view, compare call, `keep`)
 * left out (session 18: a 100-line per_vma read 8.0 → 6.7 µs in process).
 *
 * A chunk that is one run of the memo's text (every line of it copied, the gate line included:
 * `gate` keeps it after the last entry's line) is lent to a sink that may take it as a view
 * (`endChunk`, `ByteSink.lend`): the event loop answers such a read with the text itself, and
 * while a reply keeps it (`pin`) the text is copied before it is written (`writableText`).
 *
 * Per thread, the memos' memory is bounded (maps-memo-budget.ts says which memos are emptied to
 * make room, least recently read first, and which are not); the entries' columns and their
 * growth are maps-memo-columns.ts's, and whether a record prints as an entry is
 * maps-memo-match.ts's. Not thread-safe: one memo per reader context and mm (or per
 * `MapsCursor`).
 */
import { VMA_F64_END, VMA_F64_START, VMA_I32_FILE, VMA_I32_LOCK_SEQ } from '../mm/arena-layout.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VMA_W32, VMA_W64 } from '../mm/vma-table.js';
import type { ByteSink } from './byte-sink.js';
import { writeMapsLine } from './maps-line.js';
import { nextReadTick } from './maps-memo-budget.js';
import { misc, SEEN_NONE } from './maps-memo-columns.js';
import { MATCH_FIELDS, MATCH_NONE, type RunFinder } from './maps-memo-match.js';
import { MemoRun } from './maps-memo-run.js';
import type { MapsPosition } from './maps-text.js';
import type { VmaView } from './vma-view.js';

const LAST_NONE = 0;
const LAST_HIT = 1;
const LAST_MISS = 2;
/** Entries a read may move by splicing, per entry the memo holds (then it rewrites instead). */
const SPLICE_MOVES_PER_LINE = 4;

export class MapsLineMemo extends MemoRun {
  // The read in progress: the entry the next line is compared with, and whether lines still
  // match (else the memo is being rewritten from entry `next` on; `storing` false: not at all).
  private next = 0;
  /** The entry the line written last was compared with (>= next: those between are stale). */
  private at = 0;
  /** Entry moves the read may still spend on splices. */
  private spliceMoves = 0;
  private matching = true;
  private storing = true;
  // The same at the end of the last chunk that completed (a chunk rolled back restarts there).
  private chunkNext = 0;
  private chunkMatching = true;
  private chunkStoring = true;
  /** Lines copied from the memo so far (tests). */
  private copied = 0;
  // The line written last (`write`), until `keep` or `drop`.
  private last = LAST_NONE;
  private lastStart = 0;
  /** The entry an unlocked caller copied field by field, until its validation (-1: none). */
  private unvalidated = -1;
  /** Its record's vm_lock_seq as that caller read it. */
  private unvalidatedSeq = SEEN_NONE;
  /** Lines copied on their stamp alone (tests). */
  private stampHits = 0;
  /** Of them, lines copied by `copyRun` (tests). */
  private runHits = 0;

  /** Start of a chunk; `fromStart`: the first chunk of a read (position 0). */
  beginChunk(fromStart: boolean): void {
    this.runLen = 0;
    this.last = LAST_NONE;
    if (fromStart) {
      this.prevUse = this.lastUse;
      this.lastUse = nextReadTick();
      this.next = 0;
      this.matching = true;
      this.storing = true;
      this.spliceMoves = SPLICE_MOVES_PER_LINE * this.n + 64;
    } else {
      this.next = this.chunkNext;
      this.matching = this.chunkMatching;
      this.storing = this.chunkStoring;
    }
  }

  /**
   * End of a chunk that stands: the pending run is copied into the sink, or lent to it when it
   * is the whole chunk and the sink's owner takes chunks as views (`ByteSink.mayLend`).
   */
  endChunk(sink: ByteSink): void {
    this.lendOrFlush(sink);
    this.chunkNext = this.next;
    this.chunkMatching = this.matching;
    this.chunkStoring = this.storing;
  }

  /**
   * Appends `v`'s maps line to `sink`: a copy of the memo's line when the key matches. It is
   * compared with the first entry not before it (entries before it are of VMAs gone since).
   */
  write(sink: ByteSink, v: VmaView): void {
    let e = this.next;
    if (this.matching) {
      const start = v.start;
      while (e < this.n && this.start[e] < start) e++;
      this.at = e;
      if (e < this.n && this.matches(e, v, misc(v))) {
        this.copyHit(sink, e);
        return;
      }
    }
    this.last = LAST_MISS;
    this.lastStart = sink.length;
    writeMapsLine(sink, v);
  }

  /**
   * `write` straight from VMA record `id` of `mm`, before any capture, for a caller that holds
   * what protects the record (its VMA read lock, or the mmap read lock) or validates afterwards
   * (a lockless reader: a torn record gives a false hit or miss that the failed validation
   * discards, with `drop`; only plain loads, no name bytes): if the memo's next line was
   * formatted from the same printed fields, copies it, sets `v.id`, `v.start` and `v.end`
   * (nothing else of `v`) and returns true; otherwise writes nothing and returns false (the
   * caller captures and calls `write`). Lines with a path, [heap], [stack] or no name are matched
   * here, and for a `locked` caller anon-named ones (the name's bytes read from the name table)
   * and special mappings (`specialRecordHit`) too. A file line compares the file's serial (and
   * `deleted`) instead of device, inode and path: a FileTable entry is immutable while its serial
   * lives and serials are never reused (file-table.ts). A hit costs the compare, not a capture.
   *
   * Cheaper still once a `locked` caller has matched the entry: it stamps it with the record's
   * vm_lock_seq, and while that reads the same no write section has write-locked the record
   * since, so it prints as it did (only the range and `deleted` are compared), whatever was
   * written to other VMAs (a stamp with the mm-wide sequence, before session 15, was void after
   * any write in the mm). An unlocked caller stamps once its validation passed
   * (`stampValidated`). A sequence wraps after 2^31 write sections; a record not write-locked for
   * that long and then met at exactly its stamp with the same range is the one case the stamp
   * cannot tell apart.
   */
  writeIfUnchanged(sink: ByteSink, mm: MmStruct, id: number, v: VmaView, locked: boolean): boolean {
    const e = this.next;
    if (!this.matching || e >= this.n) return false;
    const t = mm.vmas;
    const r64 = t.base64 + id * VMA_W64;
    const start = t.f64[r64 + VMA_F64_START];
    const end = t.f64[r64 + VMA_F64_END];
    if (this.start[e] !== start || this.end[e] !== end) return false;
    const r32 = t.base32 + id * VMA_W32;
    // Stable while the caller holds the record's lock (a writer sets it only with the record
    // write-locked, after its readers left); an unlocked caller's validation covers it.
    const seq = t.i32[r32 + VMA_I32_LOCK_SEQ];
    if (seq === this.seen[e] && this.sameDeleted(mm, t.i32[r32 + VMA_I32_FILE], e)) {
      this.stampHits++;
      return this.hit(sink, e, v, id, start, end);
    }
    return this.compareRecord(sink, mm, id, v, locked, e, seq);
  }

  /**
   * `writeIfUnchanged` past the stamp: the record's printed fields compared with entry `e`'s
   * (same range, `recordMatch`), and the entry stamped with `seq` on a locked match. Out of line,
   * so that the stamped path, once per line, is small enough for V8 to inline into the chunk loop.
   */
  private compareRecord(
    sink: ByteSink,
    mm: MmStruct,
    id: number,
    v: VmaView,
    locked: boolean,
    e: number,
    seq: number,
  ): boolean {
    const match = this.recordMatch(mm, id, e, locked);
    if (match === MATCH_NONE) return false;
    if (match === MATCH_FIELDS) {
      // A reader without the lock may have read a record a writer was changing: its stamp
      // waits for its validation (`stampValidated`).
      if (locked) this.seen[e] = seq;
      else {
        this.unvalidated = e;
        this.unvalidatedSeq = seq;
      }
    }
    return this.hit(sink, e, v, id, this.start[e], this.end[e]);
  }

  /**
   * `MapsWalker.copyRun` for a walker whose `find.next(from)` finds and protects the next VMA as
   * its `next` does (0: none; that VMA stays protected until the next call): the lines of the
   * entries from `next` on that `stampedRun` finds unchanged, copied as one run, `pos` advanced
   * as `fetchRecord` advances it (`firstFits`: the first line goes in however long, a chunk's
   * first). Returns RUN_FULL (a line found did not fit below `chunkEnd`), or the VMA found last
   * (>= 0, 0: none), which the walker's `next` is to show.
   */
  copyRun(
    find: RunFinder,
    mm: MmStruct,
    pos: MapsPosition,
    sink: ByteSink,
    chunkEnd: number,
    firstFits: boolean,
  ): number {
    const first = this.next;
    if (!this.matching || first >= this.n) return find.next(pos.index);
    const fieldMatches = this.runFieldMatches;
    const last = this.stampedRun(find, mm, pos, first, chunkEnd - sink.length, firstFits);
    if (last > first) {
      this.copyEntries(sink, first, last);
      this.stampHits += last - first - (this.runFieldMatches - fieldMatches);
      this.runHits += last - first;
      this.next = last;
    }
    return this.runStop;
  }

  /** Appends entries [first, last)'s lines (joining the pending run when they continue it). */
  private copyEntries(sink: ByteSink, first: number, last: number): void {
    const src = this.off[first];
    this.copyText(sink, src, this.off[last] - src);
    this.copied += last - first;
  }

  /** Lines copied on their stamp alone, over the memo's life (tests). */
  get stampedHits(): number {
    return this.stampHits;
  }

  /** Of them, lines `copyRun` copied (tests). */
  get runCopies(): number {
    return this.runHits;
  }

  /**
   * An unlocked caller's validation passed for the line `writeIfUnchanged` just copied: no write
   * section began between the sequence it recorded before it read the record and the
   * validation, so the record it compared (and its vm_lock_seq) were as they stand, and the
   * entry may be stamped as a locked reader would have. Only lines compared field
   * by field are (never one with an anon name or a special mapping's name: a later unlocked
   * reader must still read those).
   */
  stampValidated(): void {
    if (this.unvalidated === this.next && this.last === LAST_HIT) {
      this.seen[this.next] = this.unvalidatedSeq;
    }
    this.unvalidated = -1;
  }

  /** writeIfUnchanged's hit: entry `e` copied, `v` given the record's id and range. */
  private hit(
    sink: ByteSink,
    e: number,
    v: VmaView,
    id: number,
    start: number,
    end: number,
  ): boolean {
    this.copyHit(sink, e);
    v.id = id;
    v.start = start;
    v.end = end;
    return true;
  }

  /** Appends entry `e`'s line (joining the pending run when it continues it). */
  private copyHit(sink: ByteSink, e: number): void {
    this.at = e;
    this.lastStart = sink.length;
    this.copyEntries(sink, e, e + 1);
    this.last = LAST_HIT;
  }

  /** The line just written is gone (`sink.length` goes back to `mark`, the line's start). */
  drop(mark: number): void {
    this.unvalidated = -1;
    if (this.last === LAST_HIT) this.trimRun(mark);
    this.last = LAST_NONE;
  }

  /** The line just written (`v`'s) stands: the next line is compared with the next entry. */
  keep(sink: ByteSink, v: VmaView): void {
    const last = this.last;
    this.last = LAST_NONE;
    if (last === LAST_HIT && this.at === this.next) this.next++;
    else if (last !== LAST_NONE) this.splice(sink, v, last === LAST_HIT);
  }

  /**
   * `keep` of a line that was not a hit on entry `next` (out of line: a hit there, the common
   * case, only advances): the entries of VMAs gone before it are dropped, then a formatted line
   * replaces its entry (same start) or goes in before it; past the read's budget of moves, the
   * memo is rewritten from here instead.
   */
  private splice(sink: ByteSink, v: VmaView, hit: boolean): void {
    const e = this.next++;
    if (e > this.n) {
      // Emptied mid-read (another memo needed the room): nothing more is kept this read.
      this.storing = false;
      this.matching = false;
      return;
    }
    // Entries move: the pending run (entries before `e`) is copied from where it is now.
    this.flush(sink);
    if (this.matching) {
      const stale = this.at - e;
      const moves = stale > 0 || !hit ? this.n - e : 0;
      if (this.spliceMoves < moves) {
        // Rewrite from here: the entries from `e` on are dropped, new ones appended.
        this.matching = false;
        this.n = Math.min(this.n, e);
        if (hit) return void this.store(sink, v, e);
      } else {
        this.spliceMoves -= moves;
        if (stale > 0) this.dropEntries(e, stale);
        if (hit) return;
      }
    }
    this.store(sink, v, e);
  }

  /** A formatted line (`v`'s, just written to `sink`) as entry `e`. */
  private store(sink: ByteSink, v: VmaView, e: number): void {
    // In order: an eviction that emptied the memo mid-read stops that.
    if (!this.storing || e > this.n) {
      this.storing = false;
      this.matching = false;
      return;
    }
    const replace = this.matching && e < this.n && this.start[e] === v.start;
    if (!this.matching) this.n = e; // rewriting: what followed is dropped
    const from = this.lastStart;
    if (!this.putEntry(e, v, sink.bytes, from, sink.length - from, replace)) {
      this.storing = false;
      this.matching = false;
    }
  }

  /** Lines copied from the memo instead of formatted, over its life (tests). */
  get hits(): number {
    return this.copied;
  }
}

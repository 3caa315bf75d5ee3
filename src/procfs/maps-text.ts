/**
 * /proc/PID/maps produced the way seq_file + fs/proc/task_mmu.c produce it (Linux 6.17+):
 * chunks of whole lines, each chunk made in one "lock window" (one read() syscall), resuming by
 * address with the `last_pos` rule, then the `[vsyscall]` gate line, then EOF.
 *
 * Position state (`MapsPosition`, the kernel's `m->index` and `priv->last_pos`):
 *   - `index` ≥ 0: an address; the next VMA to show is the first with vm_end > index.
 *     After a VMA is fetched, `lastPos` = the position it was looked up from and `index` = its
 *     vm_end (6.17+: the end, so a VMA that merged with its successor is not shown twice).
 *   - `POS_GATE` (-2): the gate VMA is next; `POS_END` (-1): EOF.
 *   - At the start of every chunk except the first, `index` is reset to `lastPos`: seq_file
 *     always fetches one VMA beyond what fits, and that VMA must be looked up again (it may
 *     have changed while no lock was held).
 *
 * Chunk size (`limit` = the seq_file buffer = the read() size): a line is kept only if the chunk
 * stays strictly below `limit` bytes. `seq_has_overflowed()` is `count == size`, so a line that
 * would end exactly at `limit` counts as overflow and starts the next chunk (verified on this
 * host: a 4096-byte read of a layout whose first 97 lines total exactly 4096 bytes returns 4053).
 * The first line of a chunk always goes out, however long (seq_file grows its buffer).
 * `limit = 0` means no limit: the whole file in one window.
 *
 * Lock-agnostic: a `MapsWalker` finds the next VMA and copies it into a `VmaView` under whatever
 * protection its strategy uses; the caller takes/drops chunk-wide locks around `readChunk`.
 */
import { ByteSink } from './byte-sink.js';
import { writeGateLine, writeMapsLine } from './maps-line.js';
import { MapsLineMemo } from './maps-line-memo.js';
import { RUN_FULL } from './maps-memo-match.js';
import { VmaView } from './vma-view.js';

export const POS_END = -1;
export const POS_GATE = -2;

/** The seq_file position of one open maps file. */
export class MapsPosition {
  index = 0;
  lastPos = 0;

  /** lseek(fd, 0): restart from the first VMA. */
  rewind(): void {
    this.index = 0;
    this.lastPos = 0;
  }

  get atEof(): boolean {
    return this.index === POS_END;
  }
}

/**
 * Finds the VMA to show next and copies it. Implemented once per locking strategy; the direct
 * walker (vma-capture.ts) is the one a caller holding the mmap read lock uses.
 */
export interface MapsWalker {
  /**
   * Fills `view` with the first VMA whose vm_end > `from` (find_vma / vma_next / lock_next_vma).
   * Returns 1 when found, 0 when there is none (then the gate comes), or -errno (e.g. -EINTR),
   * which ends the chunk. A walker that formats the line itself (to validate *after*
   * formatting and truncate a torn line: the lockless strategies) appends it to `sink` and
   * returns LINE_WRITTEN; `view.end` must still be set. A maps line goes through `lines` when
   * given (`lines.write`; a line truncated again: `lines.drop`), so that the memo stays in step.
   */
  next(from: number, view: VmaView, sink: ByteSink, lines: MapsLineMemo | null): number;
  /**
   * Called at the start of every chunk (m_start, after the chunk's lock is taken): a walker that
   * caches an iterator between `next` calls must drop it here, since anything may have changed
   * while no lock was held.
   */
  beginChunk?(): void;
  /** Whether the address space has the x86-64 gate VMA (`[vsyscall]` printed last). */
  readonly hasGate: boolean;
  /** Appends the gate VMA's record when it is not the maps line (smaps: its block). */
  writeGate?(sink: ByteSink): void;
  /**
   * The chunk loop's common case, many lines per call (optional: walkers whose VMAs are stable
   * while found, under their own VMA read lock or the chunk's mmap read lock, so the memo may
   * stamp for them). From `pos.index`, each next VMA is found and protected as `next` finds it,
   * and while the memo's next entry prints it on its stamp alone (`lines.copyRun`) and the line
   * keeps the chunk below `chunkEnd` bytes of `sink` (`firstFits`: the first line goes in
   * however long, as a chunk's first line does), the line is copied from the memo and `pos`
   * advanced as `fetchRecord` advances it. Returns
   * RUN_FULL when the line found last does not fit (the chunk ends there, as on the loop's
   * overflow; `pos` has advanced past it, as there), else RUN_HANDED: the VMA found last (or
   * none) is the one the next `next` call returns, without a second lookup.
   */
  copyRun?(
    pos: MapsPosition,
    sink: ByteSink,
    lines: MapsLineMemo,
    chunkEnd: number,
    firstFits: boolean,
  ): number;
}

/** MapsWalker.copyRun: the next line is `next`'s to show (else RUN_FULL: the chunk is full). */
export const RUN_HANDED = 1;
export { RUN_FULL };

/** MapsWalker.next: found, and its line is already in the sink. */
export const LINE_WRITTEN = 2;

const RECORD_NONE = 0;
const RECORD_VMA = 1;
const RECORD_GATE = 2;

function showGate(walker: MapsWalker, sink: ByteSink, lines: MapsLineMemo | null): void {
  if (walker.writeGate) walker.writeGate(sink);
  else if (lines !== null) lines.gate(sink);
  else writeGateLine(sink);
}

/**
 * `proc_get_vma()` + `show_map()`: fetch the record at `pos.index`, updating `lastPos`/`index`,
 * and append its line. Returns RECORD_VMA, RECORD_GATE, RECORD_NONE (no gate), or -errno.
 */
function fetchRecord(
  pos: MapsPosition,
  walker: MapsWalker,
  view: VmaView,
  sink: ByteSink,
  lines: MapsLineMemo | null,
): number {
  const r = walker.next(pos.index, view, sink, lines);
  if (r < 0) return r;
  pos.lastPos = pos.index;
  if (r > 0) {
    pos.index = view.end;
    if (r !== LINE_WRITTEN) {
      if (lines !== null) lines.write(sink, view);
      else writeMapsLine(sink, view);
    }
    return RECORD_VMA;
  }
  pos.index = POS_GATE;
  if (walker.hasGate) {
    showGate(walker, sink, lines);
    return RECORD_GATE;
  }
  // No gate VMA on this mm: m_next() on the gate position ends the file.
  pos.index = POS_END;
  return RECORD_NONE;
}

/**
 * One read() of the maps file: appends at most one chunk of whole lines to `sink` and advances
 * `pos`. Returns the number of bytes appended (0 at EOF) or -errno if the very first lookup
 * failed (a later failure just ends the chunk, as seq_read_iter returns what it has). Maps lines
 * go through `lines` (the reader's memo of its last read of this mm) when given.
 */
export function readMapsChunk(
  pos: MapsPosition,
  limit: number,
  walker: MapsWalker,
  sink: ByteSink,
  view: VmaView,
  lines: MapsLineMemo | null = null,
): number {
  if (pos.index === POS_END) return 0;
  const chunkStart = sink.length;
  walker.beginChunk?.();
  lines?.beginChunk(pos.index === 0);
  // m_start(): a non-sentinel position is replaced by the position of the record that did not fit.
  if (pos.index > 0) pos.index = pos.lastPos;
  const chunkEnd = limit > 0 ? chunkStart + limit : Number.POSITIVE_INFINITY;
  let record: number;
  // A run just handed the VMA it found last to the walker: `fetchRecord` shows it next.
  let handed = false;
  if (pos.index === POS_GATE) {
    showGate(walker, sink, lines);
    record = RECORD_GATE;
  } else {
    // The first record always goes out: in a run when it starts one (however long the line),
    // else as any record. A run that filled the chunk ends it (`pos` is past the line that did
    // not fit, as on the loop's overflow).
    const mark = sink.length;
    const run =
      lines !== null && walker.copyRun !== undefined
        ? walker.copyRun(pos, sink, lines, chunkEnd, true)
        : RUN_HANDED;
    // A run that copied nothing left the VMA it found (if any) for the walker's `next` to show.
    if (sink.length > mark) {
      if (run === RUN_FULL) {
        lines?.endChunk(sink);
        return sink.length - chunkStart;
      }
      record = RECORD_VMA;
      handed = true;
    } else {
      record = fetchRecord(pos, walker, view, sink, lines);
      if (record === RECORD_VMA) lines?.keep(sink, view);
    }
  }
  if (record < 0 || record === RECORD_NONE) {
    lines?.endChunk(sink);
    return record; // -errno, or 0: EOF
  }
  for (;;) {
    // m_next()
    if (pos.index === POS_GATE) {
      pos.index = POS_END;
      break;
    }
    if (!handed && lines !== null && walker.copyRun !== undefined) {
      if (walker.copyRun(pos, sink, lines, chunkEnd, false) === RUN_FULL) break;
    }
    handed = false;
    const mark = sink.length;
    record = fetchRecord(pos, walker, view, sink, lines);
    if (record <= RECORD_NONE) break;
    if (sink.length >= chunkEnd) {
      // Overflow (or the chunk was already full): drop the line; `pos.lastPos` still points
      // before it, so the next chunk looks it up again.
      if (record === RECORD_VMA) lines?.drop(mark);
      else lines?.trimRun(mark); // the gate's line (from the memo's text)
      sink.length = mark;
      break;
    }
    if (record === RECORD_VMA) lines?.keep(sink, view);
  }
  lines?.endChunk(sink);
  return sink.length - chunkStart;
}

/**
 * A reader of one open maps file: position, chunk size and its own buffers. Not thread-safe
 * (one per reader), allocation-free per chunk once warm.
 */
export class MapsCursor {
  readonly position = new MapsPosition();
  readonly sink: ByteSink;
  readonly view = new VmaView();
  /** The lines of this cursor's last read, to copy where the next read shows the same. */
  readonly lines = new MapsLineMemo();

  /** `limit`: chunk size in bytes (the read() size); 0 = no limit. */
  constructor(readonly limit = 4096) {
    this.sink = new ByteSink(limit > 0 ? limit + 256 : 16384);
  }

  get atEof(): boolean {
    return this.position.atEof;
  }

  /**
   * Produces the next chunk into `sink` (replacing the previous one). Returns its length,
   * 0 at EOF, or -errno. The bytes are `chunk()` until the next call.
   */
  readChunk(walker: MapsWalker): number {
    this.sink.clear();
    return readMapsChunk(this.position, this.limit, walker, this.sink, this.view, this.lines);
  }

  chunk(): Uint8Array {
    return this.sink.view();
  }

  rewind(): void {
    this.position.rewind();
    this.sink.clear();
  }
}

/** All chunks concatenated (one read() after another with no lock between: a test helper). */
export function readWholeMaps(walker: MapsWalker, limit = 0): Uint8Array {
  const pos = new MapsPosition();
  const sink = new ByteSink(16384);
  const view = new VmaView();
  for (;;) {
    const n = readMapsChunk(pos, limit, walker, sink, view);
    if (n <= 0) break;
  }
  return sink.view().slice();
}

/**
 * The maps chunk loop of readMapsChunk (maps-text.ts: m_start/m_next/proc_get_vma, the last_pos
 * rule, the `< limit` overflow rule, the gate line) for walkers that append each line themselves
 * as they fetch it, so they can validate *after* formatting and truncate a torn line (the
 * lockless strategies format straight from the live record).
 */
import type { ByteSink } from '../byte-sink.js';
import { writeGateLine } from '../maps-line.js';
import { type MapsPosition, POS_END, POS_GATE } from '../maps-text.js';
import type { VmaView } from '../vma-view.js';

export interface LineWalker {
  /**
   * Appends the maps line of the first VMA with vm_end > from to `sink` and leaves the VMA in
   * `view` (at least `view.end`): returns 1; 0 if there is none; -errno (nothing appended).
   */
  nextLine(from: number, sink: ByteSink, view: VmaView): number;
  readonly hasGate: boolean;
}

const NONE = 0;
const VMA = 1;
const GATE = 2;

function fetch(pos: MapsPosition, w: LineWalker, sink: ByteSink, view: VmaView): number {
  const r = w.nextLine(pos.index, sink, view);
  if (r < 0) return r;
  pos.lastPos = pos.index;
  if (r > 0) {
    pos.index = view.end;
    return VMA;
  }
  pos.index = POS_GATE;
  if (w.hasGate) {
    writeGateLine(sink);
    return GATE;
  }
  pos.index = POS_END;
  return NONE;
}

/** One read() of `limit` bytes (0 = no limit). Returns bytes appended, 0 at EOF, or -errno. */
export function readLineChunk(
  pos: MapsPosition,
  limit: number,
  w: LineWalker,
  sink: ByteSink,
  view: VmaView,
): number {
  if (pos.index === POS_END) return 0;
  const chunkStart = sink.length;
  if (pos.index > 0) pos.index = pos.lastPos;
  let record: number;
  if (pos.index === POS_GATE) {
    writeGateLine(sink);
    record = GATE;
  } else {
    record = fetch(pos, w, sink, view);
  }
  if (record < 0) return record;
  if (record === NONE) return 0;
  // The first record always goes out.
  for (;;) {
    const mark = sink.length;
    if (pos.index === POS_GATE) {
      pos.index = POS_END;
      break;
    }
    record = fetch(pos, w, sink, view);
    if (record <= NONE) break;
    if (limit > 0 && sink.length - chunkStart >= limit) {
      // Did not fit (or the chunk was already full): drop it; lastPos still points before it.
      sink.length = mark;
      break;
    }
  }
  return sink.length - chunkStart;
}

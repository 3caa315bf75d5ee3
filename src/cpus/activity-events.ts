/**
 * The mutation records an activity thread writes into its `MutationRing` for /ws subscribers, and
 * how the event loop turns them back into `SyscallCall`s.
 *
 * A record is one cache line of 8 Float64 cells (addresses are below 2^47, errnos small, so every
 * value is exact):
 *   0: op code (index in OPS) + 8 × step, where step is the call's index in its pass of the
 *      activity's pattern (a loop's entry index; a profile's step)
 *   1: the subscription epoch it was written under (EventsGate)
 *   2: the result (>= 0, or -errno)
 *   3..7: the call's numeric arguments in the order of ARG_FIELDS
 * Non-numeric parts (an mmap's file, an anon_name's name) are never in the ring: they come from
 * the pattern's call at `step` (`callShapes`), which the event loop knows from the activity spec.
 */
import { sourceFor } from './local-activity.js';
import type { EventsGate, MutationRing } from './mutation-ring.js';
import { replayShapes } from './replay/replay-activity.js';
import type { ActivitySpec, SyscallCall, SyscallOp } from './sim-api.js';

export const EVENT_RECORD_CELLS = 8;
/** Records per activity ring (64 B each: 256 KiB per busy process). */
export const EVENT_RING_CAPACITY = 4096;

const OPS: readonly SyscallOp[] = [
  'mmap',
  'munmap',
  'mprotect',
  'mremap',
  'brk',
  'anon_name',
  'touch',
  'madvise',
];
const OP_CODE = new Map(OPS.map((op, i) => [op, i]));
const OP_SPAN = 8;
const EPOCH_CELL = 1;
const RESULT_CELL = 2;
const ARGS_CELL = 3;

/** The numeric fields of each call shape, in record order (at most 5). */
const ARG_FIELDS = {
  mmap: ['addr', 'length', 'prot', 'flags', 'offset'],
  munmap: ['addr', 'length'],
  mprotect: ['addr', 'length', 'prot'],
  mremap: ['oldAddr', 'oldSize', 'newSize', 'flags', 'newAddr'],
  brk: ['addr'],
  anon_name: ['addr', 'length'],
  touch: ['addr', 'length'],
  madvise: ['addr', 'length', 'advice'],
} as const satisfies { [K in SyscallOp]: ReadonlyArray<keyof Extract<SyscallCall, { op: K }>> };

/**
 * One pass of the activity's pattern, call by call. A loop is replayed verbatim; a profile's
 * calls are taken from a fresh source fed 0 as every result (addresses differ at run time, and
 * come from the record; ops, names and files do not).
 */
export function callShapes(spec: ActivitySpec): SyscallCall[] {
  if (spec.kind === 'loop') return [...spec.loop];
  if (spec.kind === 'replay') return replayShapes(spec.replay);
  const source = sourceFor(spec);
  const shapes: SyscallCall[] = [];
  do {
    const call = source.next(0);
    if (call === null) break;
    shapes.push(call);
  } while (!source.passDone);
  return shapes;
}

/**
 * Calls whose arguments are all numbers need no shape: a record beyond the pattern (a looping
 * replay's cleanup munmaps and brk) is rebuilt from these.
 */
const NUMERIC_SHAPES: Partial<Record<SyscallOp, SyscallCall>> = {
  munmap: { op: 'munmap', addr: 0, length: 0 },
  mprotect: { op: 'mprotect', addr: 0, length: 0, prot: 0 },
  mremap: { op: 'mremap', oldAddr: 0, oldSize: 0, newSize: 0, flags: 0, newAddr: 0 },
  brk: { op: 'brk', addr: 0 },
};

/** Activity-thread side: one record per call while the gate is open. */
export class ActivityEventWriter {
  private step = 0;

  constructor(
    private readonly ring: MutationRing,
    private readonly gate: EventsGate,
  ) {}

  /** After each call: records it if someone is subscribed, and advances the step. */
  afterCall(call: SyscallCall, result: number, passDone: boolean): void {
    const epoch = this.gate.epoch;
    if (epoch !== 0) {
      const at = this.ring.reserve();
      if (at >= 0) {
        const cells = this.ring.cells;
        cells[at] = (OP_CODE.get(call.op) ?? 0) + OP_SPAN * this.step;
        cells[at + EPOCH_CELL] = epoch;
        cells[at + RESULT_CELL] = result;
        const fields: readonly string[] = ARG_FIELDS[call.op];
        const values = call as unknown as Record<string, number>;
        for (let k = 0; k < fields.length; k++) cells[at + ARGS_CELL + k] = values[fields[k]];
        this.ring.commit();
      }
    }
    this.step = passDone ? 0 : this.step + 1;
  }
}

/** Event-loop side: turns records of the current epoch back into calls. */
export class ActivityEventReader {
  private readonly shapes: SyscallCall[];
  private droppedSeen: number;

  constructor(
    private readonly ring: MutationRing,
    spec: ActivitySpec,
  ) {
    this.shapes = callShapes(spec);
    this.droppedSeen = ring.dropped;
  }

  /**
   * Delivers up to `max` records; those of another epoch (written just as an earlier
   * subscription ended) or that do not fit the pattern are consumed and skipped.
   */
  drain(epoch: number, max: number, emit: (call: SyscallCall, result: number) => void): number {
    return this.ring.drain(max, (cells, at) => {
      if (cells[at + EPOCH_CELL] !== epoch) return;
      const head = cells[at];
      const op = OPS[head % OP_SPAN];
      const shape = this.shapes[Math.floor(head / OP_SPAN)] ?? NUMERIC_SHAPES[op];
      if (shape === undefined || shape.op !== op) return;
      const call: Record<string, unknown> = { ...shape };
      const fields: readonly string[] = ARG_FIELDS[op];
      for (let k = 0; k < fields.length; k++) call[fields[k]] = cells[at + ARGS_CELL + k];
      emit(call as unknown as SyscallCall, cells[at + RESULT_CELL]);
    });
  }

  /** Records dropped (ring full) since the last call, or since the reader was made. */
  takeDropped(): number {
    const now = this.ring.dropped;
    const n = (now - this.droppedSeen) >>> 0;
    this.droppedSeen = now;
    return n;
  }

  /** Records the thread has published into the ring so far (mod 2^32). */
  get recorded(): number {
    return this.ring.published;
  }

  /** Records the thread could not publish because the ring was full (mod 2^32). */
  get dropped(): number {
    return this.ring.dropped;
  }

  /** A new subscription: stale records and drops from before it are not its business. */
  reset(): void {
    this.ring.skipAll();
    this.droppedSeen = this.ring.dropped;
  }
}

/**
 * The line control of the benchmarks (`npm run report`, `npm run bench -- --only=strategies`):
 * two pool threads pass a token through one shared Int32 word for one window. Side 0 sets it and
 * spins until side 1 has cleared it again (one op = one round trip of the word's cache line
 * between the two threads' CPUs), timing batches of LINE_BATCH; side 1 clears it whenever it is
 * set. Both stop at STOP, even mid-wait. The result's p50Ns is the median batch's nanoseconds
 * per round trip: a batch in which a thread was descheduled is an outlier the median leaves out,
 * and a window with no full batch (a thread hardly ran) has none.
 */
import { nowNs } from '../../src/sync/index.js';
import { STOP, waitForGo } from './thread-pool.js';

/** Round trips per timed batch. */
const LINE_BATCH = 64;

export interface LineBounceResult {
  ops: number;
  seconds: number;
  /** Side 0: the median batch's nanoseconds per round trip (absent: no full batch). */
  p50Ns?: number;
}

/**
 * One window of the line control on this pool thread. `token`: the shared word (a buffer of its
 * own, so that nothing else shares its line); `batches`: scratch for the batch times.
 */
export function lineBounce(
  control: Int32Array,
  token: Int32Array,
  side: 0 | 1,
  batches: Float64Array,
): LineBounceResult {
  Atomics.store(token, 0, 0);
  waitForGo(control);
  const t0 = nowNs();
  let ops = 0;
  let n = 0;
  if (side === 0) {
    let tb = t0;
    round: while (Atomics.load(control, STOP) === 0) {
      Atomics.store(token, 0, 1);
      while (Atomics.load(token, 0) !== 0) if (Atomics.load(control, STOP) !== 0) break round;
      if (++ops % LINE_BATCH === 0 && n < batches.length) {
        const t = nowNs();
        batches[n++] = (t - tb) / LINE_BATCH;
        tb = t;
      }
    }
  } else {
    while (Atomics.load(control, STOP) === 0) {
      if (Atomics.load(token, 0) === 1) {
        Atomics.store(token, 0, 0);
        ops++;
      }
    }
  }
  const seconds = (nowNs() - t0) / 1e9;
  if (n === 0) return { ops, seconds };
  return { ops, seconds, p50Ns: batches.subarray(0, n).sort()[n >> 1] };
}

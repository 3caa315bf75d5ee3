import type { GracePeriods } from '../../src/mm/deferred-free.js';

/**
 * A minimal epoch RCU for the storage tests only (the real one is src/sync/rcu.ts), so the index's
 * RCU-safety is tested without depending on another module. Shared words: [0] = global epoch,
 * [1 + r] = reader r's state: 0 quiescent, else 1 + the epoch it entered at.
 *
 * Why it is correct for the index: a writer publishes the new root (seq-cst store), then takes a
 * stamp (Atomics.add on the epoch), then checks readers. A reader stores its state, then loads the
 * root (seq-cst). Either the writer sees the reader's state (entered at an epoch < stamp: grace not
 * over), or the reader's root load follows the publication and cannot reach the retired nodes.
 */
export const EPOCH_RCU_WORDS = 1 + 16;

export class TestEpochRcu implements GracePeriods {
  constructor(
    readonly words: Int32Array,
    readonly readers: number,
  ) {}

  readLock(reader: number): void {
    Atomics.store(this.words, 1 + reader, Atomics.load(this.words, 0) + 1);
  }

  readUnlock(reader: number): void {
    Atomics.store(this.words, 1 + reader, 0);
  }

  retireStamp(): number {
    return Atomics.add(this.words, 0, 1) + 1;
  }

  /** synchronize_rcu by spinning (the writer in the test is the main thread, it may not sleep). */
  synchronize(): void {
    const stamp = this.retireStamp();
    while (!this.isGraceOver(stamp)) {
      // spin: readers' sections are short
    }
  }

  isGraceOver(stamp: number): boolean {
    for (let r = 0; r < this.readers; r++) {
      const s = Atomics.load(this.words, 1 + r);
      if (s !== 0 && s - 1 < stamp) return false;
    }
    return true;
  }
}

/**
 * The id the writer stores for an entry starting at `start`: lets a reader check that an entry's
 * id and start come from the same published item. Depends on the start only, so a store that
 * trims an entry's right part leaves the remainder correctly labelled (one store per step).
 */
export function tileId(start: number): number {
  return (((start / 4096) * 7919) % 0x3fff_fffb) + 1;
}

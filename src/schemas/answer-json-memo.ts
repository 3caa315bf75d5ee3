/**
 * The JSON of recent point-query answers, found again by the answer's values: a client that
 * polls an address, or a few, gets the same answer while the VMA stands, and writing its JSON
 * (three hex addresses, the name escaped) costs ~0.5 µs against ~20 ns for comparing the ten
 * values. Serialisation is a pure function of those values, so a hit is exactly what building
 * would give; the engine still answers every query itself (locks, counts), as the maps line memo
 * leaves every line's VMA to its strategy.
 *
 * Direct-mapped by page number: one answer per slot, the last one written. Per thread (the event
 * loop), not shared; bounded (SLOTS answers, their names and JSON).
 */
import type { QueryAnswer } from '../cpus/sim-api.js';

const SLOTS = 256;
/** The numeric values of a slot, in Float64Array `nums` at slot * NUMS. */
const NUMS = 8;
const PAGE = 4096;

export class AnswerJsonMemo {
  private readonly nums = new Float64Array(SLOTS * NUMS);
  private readonly names: (string | null)[] = new Array(SLOTS).fill(null);
  private readonly buildIds: (string | null)[] = new Array(SLOTS).fill(null);
  private readonly jsons: string[] = new Array(SLOTS).fill('');
  /** Answers served from the memo (tests). */
  hits = 0;

  constructor(private readonly build: (a: QueryAnswer) => string) {
    // vm_end -1: no answer has it, so an empty slot never matches.
    for (let s = 0; s < SLOTS; s++) this.nums[s * NUMS + 1] = -1;
  }

  /** `build(a)`, or the JSON built for an answer with the same values. */
  json(a: QueryAnswer): string {
    // ToInt32 keeps the low bits of any page number: & (SLOTS - 1) is page number mod SLOTS.
    const s = (a.vmaStart / PAGE) & (SLOTS - 1);
    const n = this.nums;
    const o = s * NUMS;
    if (
      n[o + 1] === a.vmaEnd &&
      n[o] === a.vmaStart &&
      n[o + 2] === a.vmaFlags &&
      n[o + 3] === a.vmaPageSize &&
      n[o + 4] === a.vmaOffset &&
      n[o + 5] === a.inode &&
      n[o + 6] === a.devMajor &&
      n[o + 7] === a.devMinor &&
      this.names[s] === a.vmaName &&
      this.buildIds[s] === a.buildId
    ) {
      this.hits++;
      return this.jsons[s];
    }
    const json = this.build(a);
    n[o] = a.vmaStart;
    n[o + 1] = a.vmaEnd;
    n[o + 2] = a.vmaFlags;
    n[o + 3] = a.vmaPageSize;
    n[o + 4] = a.vmaOffset;
    n[o + 5] = a.inode;
    n[o + 6] = a.devMajor;
    n[o + 7] = a.devMinor;
    this.names[s] = a.vmaName;
    this.buildIds[s] = a.buildId;
    this.jsons[s] = json;
    return json;
  }
}

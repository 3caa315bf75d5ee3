/**
 * A deliberately simple reference model of the VMA index: a sorted array of [start, end, id]
 * with linear-time operations, written from the specification (mas_store semantics), not from
 * the B+tree code.
 */
export type Entry = [number, number, number];

export class RangeModel {
  entries: Entry[] = [];

  store(lo: number, hi: number, id: number): void {
    this.erase(lo, hi);
    this.entries.push([lo, hi, id]);
    this.entries.sort((a, b) => a[0] - b[0]);
  }

  erase(lo: number, hi: number): void {
    const out: Entry[] = [];
    for (const [s, e, id] of this.entries) {
      if (e <= lo || s >= hi) {
        out.push([s, e, id]);
        continue;
      }
      if (s < lo) out.push([s, lo, id]);
      if (e > hi) out.push([hi, e, id]);
    }
    this.entries = out;
  }

  /** Bytes of [lo, hi) that some entry maps. */
  covered(lo: number, hi: number): number {
    let bytes = 0;
    for (const [s, e] of this.entries) {
      if (e > lo && s < hi) bytes += Math.min(e, hi) - Math.max(s, lo);
    }
    return bytes;
  }

  findNext(addr: number): number {
    for (const [, e, id] of this.entries) if (e > addr) return id;
    return 0;
  }

  findPrev(addr: number): number {
    let r = 0;
    for (const [s, , id] of this.entries) if (s < addr) r = id;
    return r;
  }

  lookup(addr: number): number {
    for (const [s, e, id] of this.entries) if (s <= addr && addr < e) return id;
    return 0;
  }
}
